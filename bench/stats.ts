/** Small numeric helpers shared by the measurements. */

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('the median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const round = (value: number, digits: number): number => Number(value.toFixed(digits));

/** Milliseconds as seconds, to the hundredth. */
export const seconds = (ms: number): number => round(ms / 1000, 2);
