/**
 * The unit tier runs inside the jest process: any program start there fails with this message
 * instead of passing slowly (and then belonging to no tier). test/harness/tiers.js.
 */
function refuse(name: string): () => never {
  return () => {
    throw new Error(`child_process.${name}: a unit-tier test starts no program. If this test must, write \`@tier process\` in its first comment (test/harness/tiers.js).`);
  };
}

function guarded(): typeof import('child_process') {
  const actual = jest.requireActual<typeof import('child_process')>('child_process');
  const names = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;
  return { ...actual, ...Object.fromEntries(names.map((n) => [n, refuse(n)])) };
}

jest.mock('child_process', guarded);
jest.mock('node:child_process', guarded);
