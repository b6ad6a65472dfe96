// One line per target a benchmark measures, so that `npm run bench` (bench/all.ts) can list
// every figure beside its target at the end of the run. A figure only: nothing fails.
export function reportTarget(name: string, figure: string, goal: string, met: boolean | undefined): void {
  const verdict = met === undefined ? "n/a   " : met ? "met   " : "MISSED";
  console.log(`TARGET ${verdict} | ${name} | ${figure} | ${goal}`);
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};
