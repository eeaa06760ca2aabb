// Outside src/extension (and the tests), the module 'vscode' resolves to this file
// (tsconfig.base.json "paths"): it exports nothing, so any use of the VS Code API from the shared
// layer, core, the worker, the CLI or the webview fails to compile. Only src/extension/tsconfig.json
// resets "paths" and sees @types/vscode.
export {};
