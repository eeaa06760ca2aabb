// The page's side of a panel: the VS Code API handle, typed by the panel's protocol (what the app
// posts, what it saves with setState), and the controller's messages. A page may acquire the API
// once; each app calls vscodeApi() once at start.

export interface VsCodeApi<FromWebview, State> {
  postMessage(message: FromWebview): void;
  getState(): State | undefined;
  setState(state: State): void;
}

declare function acquireVsCodeApi(): VsCodeApi<unknown, unknown>;

export function vscodeApi<FromWebview, State>(): VsCodeApi<FromWebview, State> {
  return acquireVsCodeApi() as VsCodeApi<FromWebview, State>;
}

/** Calls `handle` with each message the controller posts. */
export function onMessage<ToWebview>(handle: (message: ToWebview) => void): void {
  window.addEventListener('message', (event: MessageEvent<ToWebview>) => handle(event.data));
}
