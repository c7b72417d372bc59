// Filled by the guard issue; kept so the subpath export resolves.
export {};
