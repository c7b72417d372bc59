/** Starts, stops and probes the application a guard keeps active on one node. */
export interface Supervisor {
  /** Makes sure no app left over from an earlier guard run is still running. */
  cleanup(): Promise<void>;
  /** Starts the app with extra environment (the term, the node). */
  start(env: Readonly<Record<string, string>>): Promise<void>;
  /** Stops the app; resolves once it is gone (forcefully after the stop timeout). */
  stop(): Promise<void>;
  /** Whether the app is ready to serve (readiness URL, else: it runs). */
  ready(): Promise<boolean>;
  /** Called when the app ends by itself (not through {@link stop}). */
  onExit(listener: (detail: string) => void): void;
}

/**
 * Runs start/stop operations one after another, in call order: a stop issued after a start
 * always takes effect after that start (never before it, never skipped), and a start issued
 * while a stop runs waits for the stop.
 */
export class OperationQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.tail.then(op, op);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
