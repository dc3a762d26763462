/** Up to `count` candidates nearest to `name` by edit distance, closest first, within a typo's reach. */
export function nearest(name: string, candidates: readonly string[], count = 3): string[] {
  const limit = Math.max(3, Math.floor(name.length / 3));
  const scored: [number, string][] = [];
  for (const candidate of candidates) {
    if (Math.abs(candidate.length - name.length) > limit) continue;
    const d = distance(name, candidate);
    if (d <= limit) scored.push([d, candidate]);
  }
  scored.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1));
  return scored.slice(0, count).map(([, candidate]) => candidate);
}

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
