// Filled by the aws issue; kept so the subpath export resolves.
export {};
