// The VS Code theme as the webview apps see it: the --vscode-* CSS variables (the fallbacks apply
// only outside VS Code, e.g. in the unit tests' browser), the body's theme class, and its changes.
import { Chart } from 'chart.js';

export function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

export type ThemeKind = 'light' | 'dark' | 'high-contrast';

export function themeKind(): ThemeKind {
  const classes = document.body.classList;
  return classes.contains('vscode-light') ? 'light' : classes.contains('vscode-high-contrast') ? 'high-contrast' : 'dark';
}

/** A theme switch changes the body's class (and the variables): `redraw` runs after each. */
export function onThemeChange(redraw: () => void): void {
  new MutationObserver(() => redraw()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}

/** The theme's chart colours by name, as CSS variables with VS Code's dark-theme values as fallbacks. */
export const CHART_COLOURS = {
  blue: ['--vscode-charts-blue', '#3794ff'],
  orange: ['--vscode-charts-orange', '#d18616'],
  green: ['--vscode-charts-green', '#89d185'],
  purple: ['--vscode-charts-purple', '#b180d7'],
  red: ['--vscode-charts-red', '#f14c4c'],
  yellow: ['--vscode-charts-yellow', '#cca700'],
} as const;

export type ChartColour = keyof typeof CHART_COLOURS;

export function chartColour(name: ChartColour): string {
  const [variable, fallback] = CHART_COLOURS[name];
  return cssVar(variable, fallback);
}

/**
 * Chart.js defaults from the theme (text colour, font, grid and border lines); call before each
 * render, since a theme switch changes them. Returns the two colours charts also set per axis.
 * Also what every chart of the panels shares: it fills its box (the stylesheet sets the height)
 * and draws at once, without animation (tests and screenshots see the final state).
 */
export function applyChartTheme(): { fg: string; grid: string } {
  const fg = cssVar('--vscode-foreground', '#888');
  const grid = cssVar('--vscode-panel-border', 'rgba(128,128,128,0.3)');
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = false;
  Chart.defaults.color = fg;
  Chart.defaults.font.family = cssVar('--vscode-font-family', 'sans-serif');
  Chart.defaults.borderColor = grid;
  return { fg, grid };
}
