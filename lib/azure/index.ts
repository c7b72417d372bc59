// Filled by the azure issue; kept so the subpath export resolves.
export {};
