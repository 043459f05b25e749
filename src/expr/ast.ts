// The expression tree the interpreter walks. It is ours, not jsep's: operator aliases are already
// folded (`and` → `&&`, `or` → `||`, `not` → `!`, `^` → `**`), calls name a builtin, and anything
// the language does not have was rejected while converting, so evaluation never meets a surprise.

export type BinaryOp =
  | '+' | '-' | '*' | '/' | '%' | '**'
  | '==' | '!=' | '<' | '>' | '<=' | '>='
  | '&&' | '||' | '??' | 'in';

export type UnaryOp = '-' | '+' | '!';

export type Node =
  | { kind: 'literal'; value: number | string | boolean | null }
  | { kind: 'identifier'; name: string }
  | { kind: 'member'; object: Node; property: Node; computed: boolean; optional: boolean }
  | { kind: 'call'; callee: string; args: Node[] }
  | { kind: 'unary'; op: UnaryOp; arg: Node }
  | { kind: 'binary'; op: BinaryOp; left: Node; right: Node }
  | { kind: 'conditional'; test: Node; consequent: Node; alternate: Node }
  | { kind: 'array'; elements: Node[] };

/** Source-like text of a node, for error messages ("where"). */
export function show(node: Node): string {
  switch (node.kind) {
    case 'literal':
      return typeof node.value === 'string' ? JSON.stringify(node.value) : node.value === null ? 'nil' : String(node.value);
    case 'identifier':
      return node.name;
    case 'member': {
      const dot = node.optional ? '?.' : '.';
      if (!node.computed && node.property.kind === 'literal') return `${show(node.object)}${dot}${String(node.property.value)}`;
      return `${show(node.object)}${node.optional ? '?.' : ''}[${show(node.property)}]`;
    }
    case 'call':
      return `${node.callee}(${node.args.map(show).join(', ')})`;
    case 'unary':
      return `${node.op}${wrap(node.arg)}`;
    case 'binary':
      return `${wrap(node.left)} ${node.op} ${wrap(node.right)}`;
    case 'conditional':
      return `${wrap(node.test)} ? ${wrap(node.consequent)} : ${wrap(node.alternate)}`;
    case 'array':
      return `[${node.elements.map(show).join(', ')}]`;
  }
}

function wrap(node: Node): string {
  return node.kind === 'binary' || node.kind === 'conditional' ? `(${show(node)})` : show(node);
}
