import * as vscode from 'vscode';

/**
 * One user-facing job of the extension: it registers its own commands, views and listeners.
 * Every feature has one shape: `xFeature()` returns it; `activate` builds the feature's controller
 * (a class constructed with the context, or with nothing when it needs none, which does the work,
 * owns the feature's diagnostics and is the host its panels and views call back) and registers
 * commands, views, listeners and its panels' serializers, each a line that hands over to the
 * controller. Panels build on src/extension/panels.
 */
export interface Feature {
  id: string;
  activate(context: vscode.ExtensionContext): void;
}
