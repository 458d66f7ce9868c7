#!/usr/bin/env bash
# Proof that the package installs and works outside this repository (docs/packaging.md):
#   1. build it (npm run build: jsii, the function's bundle, the CLI);
#   2. generate the Python package with jsii-pacmak, and check it declares the construct;
#   3. pack it, and check the tarball holds only what belongs;
#   4. install the tarball into a scratch CDK app in a temporary folder (with aws-cdk-lib and
#      constructs, from the npm cache or the registry: nothing else);
#   5. type-check and synthesize that app, a stack with `new VpceGuard(...)` and a policy file,
#      and check the template: the guard's function with the package's pre-built bundle;
#   6. run `npx vpce-guard policy validate` from that install.
# Any failure stops it with the step that broke; the scratch folder is then kept.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vpce-guard-install-proof.XXXXXX")
STEP="start"
STEP_START=$SECONDS

finish() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    echo "install-proof: FAILED at step \"$STEP\" (exit $status); its files are kept in $WORK" >&2
  else
    rm -rf "$WORK"
    echo "install-proof: passed in $((SECONDS))s"
  fi
}
trap finish EXIT

step() {
  [ "$STEP" = "start" ] || echo "install-proof: ($((SECONDS - STEP_START))s)"
  STEP=$1
  STEP_START=$SECONDS
  echo "install-proof: $STEP"
}

fail() {
  echo "install-proof: $*" >&2
  exit 1
}

step "build the package (npm run build)"
npm run build --silent

step "generate the Python package (jsii-pacmak --targets python --code-only)"
npx jsii-pacmak --targets python --code-only --outdir "$WORK/packages"
PYTHON_PACKAGE="$WORK/packages/python"
INIT="$PYTHON_PACKAGE/src/vpce_guard/__init__.py"
[ -f "$INIT" ] || fail "jsii-pacmak wrote no $INIT"
for declaration in 'class VpceGuard(' 'class VpceGuardProps:' 'class VpceGuardStack(' 'class MetricName(enum.Enum):'; do
  grep -qF "$declaration" "$INIT" || fail "the Python package does not declare '$declaration' ($INIT)"
done
(cd "$PYTHON_PACKAGE" && find . -type f | sort)

step "pack the package (npm pack)"
TARBALL="$WORK/$(npm pack --pack-destination "$WORK" --silent | tail -n 1)"
[ -f "$TARBALL" ] || fail "npm pack wrote no tarball in $WORK"
ls -l "$TARBALL"
# Only what a user needs: the compiled construct, the function's bundle, the CLI, the
# assembly, the starter policy, and package.json, README and LICENSE. No sources, tests,
# fixtures, cdk.out or benchmark output.
CONTENTS=$(tar -tzf "$TARBALL")
UNEXPECTED=$(grep -vE '^package/(package\.json|README\.md|LICENSE|\.jsii|examples/policy\.example\.json|dist/(lib|core)/.+\.(js|d\.ts)|dist/lambda/index\.mjs(\.map)?|dist/bin/vpce-guard\.mjs)$' <<<"$CONTENTS" || true)
[ -z "$UNEXPECTED" ] || fail "the tarball holds files that do not belong:
$UNEXPECTED"
for needed in package/.jsii package/LICENSE package/dist/lib/index.js package/dist/lib/index.d.ts package/dist/lambda/index.mjs package/dist/bin/vpce-guard.mjs; do
  grep -qxF "$needed" <<<"$CONTENTS" || fail "the tarball lacks $needed"
done

step "install the tarball into a scratch CDK app (npm install --prefer-offline)"
APP="$WORK/app"
mkdir -p "$APP"
# The versions this repository builds and tests with, so that the npm cache has them.
CDK_VERSION=$(node -p 'require("aws-cdk-lib/package.json").version')
CONSTRUCTS_VERSION=$(node -p 'require("constructs/package.json").version')
cat >"$APP/package.json" <<EOF
{
  "name": "scratch-cdk-app",
  "private": true,
  "dependencies": {
    "aws-cdk-lib": "$CDK_VERSION",
    "constructs": "$CONSTRUCTS_VERSION",
    "vpce-guard": "file:$TARBALL"
  }
}
EOF
(cd "$APP" && npm install --prefer-offline --no-audit --no-fund --loglevel=error)
# A consumer's synth needs neither esbuild nor our sources, and the package brings no
# runtime dependency of its own.
[ ! -e "$APP/node_modules/esbuild" ] || fail "esbuild was installed into the scratch app"
[ ! -e "$APP/node_modules/vpce-guard/node_modules" ] || fail "vpce-guard brought its own node_modules"
SOURCES=$(cd "$APP/node_modules/vpce-guard" && find . -name '*.ts' ! -name '*.d.ts')
[ -z "$SOURCES" ] || fail "the installed package holds TypeScript sources: $SOURCES"

step "type-check and synthesize a stack with new VpceGuard(...)"
cp examples/policy.example.json "$APP/policy.json"
cat >"$APP/tsconfig.json" <<'EOF'
{
  "compilerOptions": {
    "target": "es2022",
    "module": "nodenext",
    "moduleResolution": "nodenext",
    "strict": true,
    "skipLibCheck": true,
    "types": []
  },
  "files": ["app.ts"]
}
EOF
cat >"$APP/app.ts" <<'EOF'
import { App, Stack } from 'aws-cdk-lib';
import { MetricName, VpceGuard, type VpceGuardProps } from 'vpce-guard';

const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'ScratchApp');
const props: VpceGuardProps = {
  protectedServiceIds: ['vpce-svc-0123456789abcdef0'],
  initialPolicyFile: 'policy.json',
};
const guard = new VpceGuard(stack, 'Guard', props);
guard.metric(MetricName.POLICY_INVALID);
app.synth();
EOF
# The consumer's own TypeScript (this repository's compiler): the package's types resolve
# through its "exports", as a Node16/NodeNext project resolves them.
node "$ROOT/node_modules/typescript/bin/tsc" -p "$APP"
(cd "$APP" && node app.js)

step "check the template: the guard's function runs the package's pre-built bundle"
(cd "$APP" && node - <<'EOF'
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const fail = (message) => {
  console.error(`install-proof: ${message}`);
  process.exit(1);
};
const template = JSON.parse(fs.readFileSync('cdk.out/ScratchApp.template.json', 'utf8'));
const resources = Object.entries(template.Resources);
const functions = resources.filter(([, r]) => r.Type === 'AWS::Lambda::Function');
const guard = functions.find(([, r]) => r.Properties.Handler === 'index.handler' && r.Properties.Runtime === 'nodejs24.x');
if (!guard) fail(`no nodejs24.x function with handler index.handler among ${functions.map(([id]) => id).join(', ')}`);
const [id, { Properties: fn }] = guard;
if (JSON.stringify(fn.Architectures) !== '["arm64"]') fail(`${id} is not ARM64: ${JSON.stringify(fn.Architectures)}`);
if (fn.Environment.Variables.NODE_OPTIONS !== '--enable-source-maps') fail(`${id} lacks its source maps`);
const asset = path.join('cdk.out', `asset.${fn.Code.S3Key.replace(/\.zip$/, '')}`);
const files = fs.readdirSync(asset).sort();
if (files.join() !== 'index.mjs,index.mjs.map') fail(`${asset} holds ${files.join(', ')}, not the bundle`);
const hash = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const shipped = require.resolve('vpce-guard/package.json').replace(/package\.json$/, 'dist/lambda/index.mjs');
if (hash(path.join(asset, 'index.mjs')) !== hash(shipped)) fail(`${asset}/index.mjs is not the package's bundle ${shipped}`);
const types = {};
for (const [, r] of resources) types[r.Type] = (types[r.Type] ?? 0) + 1;
console.log(`cdk.out/ScratchApp.template.json: ${resources.length} resources`);
for (const [type, n] of Object.entries(types).sort()) console.log(`  ${String(n).padStart(3)} ${type}`);
console.log(`guard function ${id}: ${fn.Runtime}, ${fn.Architectures}, handler ${fn.Handler}, code ${asset}/ (${files.join(', ')}), the package's bundle`);
EOF
)

step "run the CLI from the install (npx vpce-guard policy validate)"
(cd "$APP" && npx --no vpce-guard policy validate policy.json) || fail "npx vpce-guard policy validate policy.json failed"
echo '{"version":1,"defaultAction":"reject","rules":[{"id":"x","principals":["12345"]}]}' >"$APP/invalid.json"
set +e
INVALID=$(cd "$APP" && npx --no vpce-guard policy validate invalid.json 2>&1)
CODE=$?
set -e
echo "$INVALID"
[ "$CODE" -eq 1 ] || fail "an invalid policy exited $CODE, not 1"
grep -qF 'rules[0].principals[0]' <<<"$INVALID" || fail "the invalid policy's error does not name its JSON path"

step "done"
