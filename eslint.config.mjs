import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

/**
 * The layers (docs/architecture.md): each folder may import only the folders listed for it.
 * `core` is what the function, the construct and the CLI share, and imports none of them; the
 * function's bundle (`lambda`) must never pull in the construct or the CDK.
 */
const FOLDERS = [
  'core',
  'lambda',
  'lib',
  'cli',
  'bin',
  'local-aws',
  'demo',
  'bench',
  'scripts',
  'integ',
  'test',
];
const LAYERS = {
  core: {
    may: [],
    packages: ['aws-cdk-lib', 'constructs', '@aws-lambda-powertools/*', 'aws-lambda'],
  },
  lambda: { may: ['core'], packages: ['aws-cdk-lib', 'constructs'] },
  lib: { may: ['core'], packages: ['@aws-lambda-powertools/*'] },
  cli: { may: ['core'], packages: ['aws-cdk-lib', 'constructs', '@aws-lambda-powertools/*'] },
  'local-aws': { may: ['core', 'lambda', 'lib', 'cli'], packages: [] },
  demo: { may: ['core', 'lambda', 'lib', 'cli', 'local-aws'], packages: [] },
  bench: { may: ['core', 'lambda', 'lib', 'cli', 'local-aws'], packages: [] },
  scripts: { may: ['core', 'lambda', 'lib', 'cli', 'local-aws'], packages: [] },
  bin: { may: ['core', 'lib', 'cli'], packages: [] },
  integ: { may: ['core', 'lib', 'local-aws'], packages: [] },
};

/** One config block per layer: relative imports that climb into a forbidden folder fail. */
function layerRules() {
  return Object.entries(LAYERS).map(([layer, { may, packages }]) => {
    const forbidden = FOLDERS.filter((f) => f !== layer && !may.includes(f));
    return {
      files: [`${layer}/**/*.ts`, `${layer}/**/*.mjs`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                regex: `^(\\.\\./)+(${forbidden.join('|')})(/|$)`,
                message: `${layer}/ may import only ${may.length ? may.join(', ') : 'nothing of this project'} (docs/architecture.md#layers)`,
              },
              ...(packages.length
                ? [
                    {
                      group: packages,
                      message: `${layer}/ must not depend on this package (docs/architecture.md#layers)`,
                    },
                  ]
                : []),
            ],
          },
        ],
      },
    };
  });
}

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'coverage/', 'dist/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  ...layerRules(),
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'writable', require: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
