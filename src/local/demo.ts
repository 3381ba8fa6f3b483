/** The demo project `hangar local` creates in the emulator: a repository, its test map, a PR. */
import type { ConfigInput } from "../config/index.js";
import type { FileMap } from "../emulator/index.js";

export const DEMO_REPO = "hangar-demo/hello";
export const DEMO_AUTHOR = "demo-contributor";
export const DEMO_CONTEXTS = ["debian/unit", "fedora/integration"] as const;

const RUN_SCRIPT = `#!/bin/sh
# hangar runs .hangar/run in a fresh checkout of the commit under test.
set -eu
echo "hangar demo: testing \${TEST_OS}/\${TEST_SCENARIO} at \${TEST_REVISION}"
echo "pull request #\${TEST_PULL} against \${BASE_BRANCH}"
for step in build unit-tests lint; do
  echo "step \${step}: ok"
done
sh ./greet.sh > "\${TEST_ATTACHMENTS}/greeting.txt"
printf '\\033[32mall demo tests passed\\033[0m\\n'
`;

export const DEMO_FILES: FileMap = {
  "README.md": "# hello\n\nThe demo project of `hangar local`.\n",
  "greet.sh": 'echo "hello from the main branch"\n',
  ".hangar/run": { content: RUN_SCRIPT, executable: true },
};

export const DEMO_PULL_FILES: FileMap = {
  "greet.sh": 'echo "hello from a pull request"\n',
};

export const DEMO_PROJECTS: NonNullable<ConfigInput["projects"]> = {
  [DEMO_REPO]: { branches: { main: [...DEMO_CONTEXTS] } },
};
