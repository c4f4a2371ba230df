/** Random, non-overlapping port ranges for the engine's and the callers' RTP (tests run beside us). */
export function rtpRanges(size: number): { engine: { min: number; max: number }; callers: { min: number; max: number } } {
  const even = (x: number): number => x - (x % 2);
  const engineMin = even(20000 + Math.floor(Math.random() * Math.max(1, 18000 - size)));
  const callerMin = even(40000 + Math.floor(Math.random() * Math.max(1, 19000 - size)));
  return { engine: { min: engineMin, max: engineMin + size - 1 }, callers: { min: callerMin, max: callerMin + size - 1 } };
}
