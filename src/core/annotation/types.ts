// The annotation report's types live in the shared layer (the panel's webview reads them too).
export * from '../../shared/reports/annotation';
