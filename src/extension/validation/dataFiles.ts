// Which documents the extension validates: the shared data-file rules (src/shared/dataFiles.ts)
// on the URI schemes the extension can read. The controller, the quick fixes and the status bar
// all take them from here, so a file the controller validates also gets its fixes.
import type { DocumentSelector } from 'vscode';
import { DATA_FILE_GLOB, isDataFile } from '../../shared/dataFiles';

export { isDataFile };

/** URI schemes whose documents are validated (local, remote, virtual workspaces). */
export const DATA_FILE_SCHEMES: ReadonlySet<string> = new Set(['file', 'vscode-remote', 'vscode-vfs']);

/** Every data file on those schemes, for providers (quick fixes). */
export const DATA_FILES: DocumentSelector = [...DATA_FILE_SCHEMES].map((scheme) => ({ scheme, pattern: DATA_FILE_GLOB }));
