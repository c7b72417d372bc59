/**
 * One validation problem: where (a dotted path such as `guard.failOverIntervalSecs` or a config
 * key such as `high-availability-guard.fail-over-interval-secs`) and what is wrong.
 */
export interface Problem {
  readonly path: string;
  readonly message: string;
}

/**
 * Thrown when input is invalid. Lists every problem, one per line, so a user fixes them all at
 * once instead of one per run.
 */
export class ValidationError extends Error {
  constructor(
    readonly subject: string,
    readonly problems: readonly Problem[],
  ) {
    super(`${subject} is invalid:\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`);
    this.name = 'ValidationError';
  }
}

/** Throws one ValidationError listing every problem; does nothing when there are none. */
export function throwIfProblems(subject: string, problems: readonly Problem[]): void {
  if (problems.length > 0) throw new ValidationError(subject, problems);
}

export function formatProblem(problem: Problem): string {
  return problem.path ? `${problem.path}: ${problem.message}` : problem.message;
}

/** Renders a zod-style path (`['sharedItems', 0, 'path']`) as `sharedItems[0].path`. */
export function pathToString(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}
