/** A parse or evaluation error of a condition/formula; the message names what failed and where. */
export class ExprError extends Error {
  override readonly name = 'ExprError';
}
