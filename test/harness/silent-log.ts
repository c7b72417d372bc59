/** A guard log that drops every line: for unit tests whose subject takes a `log`. */
export const silent = { info: (): void => undefined, warn: (): void => undefined, error: (): void => undefined };
