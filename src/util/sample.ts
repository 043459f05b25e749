// `n` items of a list chosen at random, without repeats (Fisher–Yates on a copy): which of the
// acknowledged keys a redelivery schedule sends again.
export function sample<T>(xs: readonly T[], n: number, rand: () => number = Math.random): T[] {
  const a = [...xs];
  const k = Math.max(0, Math.min(n, a.length));
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rand() * (a.length - i));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, k);
}
