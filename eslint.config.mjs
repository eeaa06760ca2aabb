// ESLint (flat config): the recommended rules of ESLint and typescript-eslint, without type
// information (fast enough for `npm test` on two cores). Run by `npm run lint`, a stage of `npm test`.
// Every rule turned off or tuned below says why.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// what node scripts (.mjs/.cjs) may use without an import
const node = Object.fromEntries(
  [
    'process',
    'console',
    'Buffer',
    'URL',
    'URLSearchParams',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'performance',
    'structuredClone',
    'AbortController',
    'TextEncoder',
    'TextDecoder',
  ].map((name) => [name, 'readonly']),
);
const commonjs = { require: 'readonly', module: 'writable', exports: 'writable', __dirname: 'readonly', __filename: 'readonly' };
// the e2e scenarios pass functions to page.evaluate: they run in the browser page
const browser = { document: 'readonly', window: 'readonly', getComputedStyle: 'readonly' };

export default tseslint.config(
  {
    // build output, installed and downloaded trees, workspace state, Python, and benchmark data
    ignores: [
      'dist/**',
      'node_modules/**',
      '.cache/**',
      '.e2e/**',
      '.preflight/**',
      '.vscode-test/**',
      'python/**',
      'models/**',
      'bench/**/data/**',
      'preflight-report/**',
      '**/*.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // a leading underscore marks a value left unused on purpose (an ignored parameter, a field
      // dropped from a rest copy)
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // the code matches control characters on purpose: escaping terminal control sequences, NUL
      // bytes in text files, ANSI colour codes in test output
      'no-control-regex': 'off',
      // `const [a, b] = ...; b = ...` would need two statements for one pair
      'prefer-const': ['error', { destructuring: 'all' }],
      // `cond ? list.push(x) : other.push(x)` is used as a statement in a few hot loops
      '@typescript-eslint/no-unused-expressions': ['error', { allowTernary: true }],
    },
  },
  {
    // TypeScript itself reports undefined names in .ts files (typescript-eslint's advice)
    files: ['**/*.ts', '**/*.mts', '**/*.cts'],
    rules: { 'no-undef': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: node },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...node, ...commonjs } },
    // require() is how a CommonJS module imports
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['test/e2e/**/*.mjs'],
    languageOptions: { globals: { ...node, ...browser } },
  },
  {
    // loaded with require() on first use, so that activation does not parse the validators (engine.ts),
    // the tokenizer libraries (the inference worker's client) or the annotation core
    files: ['src/extension/validation/engine.ts', 'src/worker/client.ts', 'src/extension/annotation/core.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
