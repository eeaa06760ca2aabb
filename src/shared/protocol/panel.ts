// Messages every report panel shares (MDF, annotation): the controller posts the view to show, or a
// busy or failed line; the app says when it is ready for the view. Both sides import these types;
// nothing here imports vscode or the DOM.

export type ReportToWebview<View> = { type: 'show'; view: View } | { type: 'busy'; message: string } | { type: 'failed'; message: string };

/** The app loaded (first open, or back after a reload): the controller answers with its view. */
export type Ready = { type: 'ready' };
