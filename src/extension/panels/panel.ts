// One base for every Preflight webview panel. A kind of panel is a view type, its page (bundle,
// title, loading text) and where it opens; a panel class adds only its messages. The base owns the
// rest the same way for all: open or reveal one panel per key, revive after a window reload through
// the view type's serializer, post, receive and dispose.
import * as vscode from 'vscode';
import { webviewPage, webviewPanelOptions } from './page';

export interface PanelKind {
  /** the WebviewPanel view type; package.json names it in an onWebviewPanel activation event */
  viewType: string;
  /** the webview bundle: dist/webview/<app>.js and .css, built from webview/<app>/main.ts */
  app: string;
  /** the page's <title> */
  pageTitle: string;
  /** shown until the app renders */
  loading: string;
  /** reports open beside the editor without taking focus; forms open in the active group */
  placement: 'beside' | 'active';
}

/** A panel: receives its app's messages (FromWebview) and posts its own (ToWebview). */
export abstract class Panel<ToWebview, FromWebview> {
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  /**
   * `page.title` replaces the kind's page title; `page.data`: data-* attributes on the page's <body>
   * (escaped), which the app reads before any message.
   */
  protected constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly home: PanelSet<Panel<ToWebview, FromWebview>>,
    readonly key: string,
    extensionUri: vscode.Uri,
    page: { title?: string; data?: Record<string, string> } = {},
  ) {
    home.add(key, this);
    const kind = home.kind;
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icon.svg');
    panel.webview.html = webviewPage(panel.webview, extensionUri, {
      app: kind.app,
      title: page.title ?? kind.pageTitle,
      loading: kind.loading,
      data: page.data,
    });
    panel.webview.onDidReceiveMessage((message: FromWebview) => this.receive(message), undefined, this.disposables);
    panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
  }

  /** Handles one message of the app; each panel's own protocol. */
  protected abstract receive(message: FromWebview): void | Promise<void>;

  /** Releases what the panel holds beyond its webview (timers, caches); called once, on close. */
  protected closed(): void {}

  protected post(message: ToWebview): void {
    void this.panel.webview.postMessage(message);
  }

  reveal(): void {
    this.panel.reveal(undefined, this.home.kind.placement === 'beside');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.home.get(this.key) === this) this.home.delete(this.key);
    this.closed();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}

/** The open panels of one kind, one per key (a file, a run folder; a form has a single key). */
export class PanelSet<P extends Panel<never, never>> {
  private readonly panels = new Map<string, P>();

  constructor(readonly kind: PanelKind) {}

  get(key: string): P | undefined {
    return this.panels.get(key);
  }

  all(): P[] {
    return [...this.panels.values()];
  }

  /** @internal the base's constructor and dispose keep the set */
  add(key: string, panel: P): void {
    this.panels.set(key, panel);
  }

  /** @internal */
  delete(key: string): void {
    this.panels.delete(key);
  }

  /** Reveals the panel open for `key`, or opens a new one and hands its webview panel to `create`. */
  open(extensionUri: vscode.Uri, key: string, title: string, create: (panel: vscode.WebviewPanel) => P): P {
    const existing = this.panels.get(key);
    if (existing) {
      existing.reveal();
      return existing;
    }
    const column = this.kind.placement === 'beside' ? { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true } : vscode.ViewColumn.Active;
    return create(vscode.window.createWebviewPanel(this.kind.viewType, title, column, webviewPanelOptions(extensionUri)));
  }

  /**
   * Revives this kind's panels after a window reload: VS Code hands back each one with the state its
   * app saved (setState). That state comes from the webview: only a state that passes `usable` is
   * revived; any other closes the panel.
   */
  registerSerializer<S>(
    extensionUri: vscode.Uri,
    usable: (state: Partial<S> | undefined) => state is S,
    revive: (panel: vscode.WebviewPanel, state: S) => P,
  ): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(this.kind.viewType, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown) {
        const saved = state !== null && typeof state === 'object' ? (state as Partial<S>) : undefined;
        if (!usable(saved)) {
          panel.dispose();
          return;
        }
        panel.webview.options = webviewPanelOptions(extensionUri);
        revive(panel, saved);
      },
    });
  }
}
