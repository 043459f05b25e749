// The runner image: this repository with its production dependencies, run on the Node that the
// lockfile pins through the npm package `node` (bin/clawstorm runs node_modules/.bin/node), so a
// runner in a cluster runs the same Node the project is tested on.
import fs from 'node:fs';
import path from 'node:path';
import { ExportError, REPO_ROOT } from '../common.ts';

/** The `node` version package-lock.json pins (the package is a devDependency). */
export function pinnedNodeVersion(repo = REPO_ROOT): string {
  const file = path.join(repo, 'package-lock.json');
  const lock = JSON.parse(fs.readFileSync(file, 'utf8')) as { packages?: Record<string, { version?: string }> };
  const v = lock.packages?.['node_modules/node']?.version;
  if (v === undefined || !/^\d+\.\d+\.\d+$/.test(v)) throw new ExportError(`${file}: no pinned version of the npm package node (packages["node_modules/node"].version)`);
  return v;
}

/** What the image needs of the repository: the CLI, the code it imports, the scenario and profile files. */
export const IMAGE_PATHS = ['bin', 'src', 'contract', 'harness', 'scenarios', 'profiles'] as const;

export function dockerfile(nodeVersion = pinnedNodeVersion()): string {
  const major = nodeVersion.split('.')[0] as string;
  return `# ClawStorm runner and judge image. Written by \`clawstorm export k8s\`; build it from the
# repository root:
#   docker build -f <this file> -t <registry>/clawstorm:<tag> <repository>
#
# The runtime Node is the npm package \`node\` at the version package-lock.json pins (${nodeVersion}),
# where bin/clawstorm looks for it; the build stage's own Node only runs npm.

FROM node:${major}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
# \`node\` is a devDependency, so --omit=dev left it out: install the pinned version on its own
# and put it where bin/clawstorm runs it (node_modules/.bin/node).
RUN mkdir /opt/node-pkg && cd /opt/node-pkg && npm init -y >/dev/null \\
 && npm install --omit=dev --no-audit --no-fund node@${nodeVersion} \\
 && mv /opt/node-pkg/node_modules/node /app/node_modules/node \\
 && mkdir -p /app/node_modules/.bin && ln -sf ../node/bin/node /app/node_modules/.bin/node \\
 && /app/node_modules/.bin/node --version | grep -qx v${nodeVersion}
${IMAGE_PATHS.map((p) => `COPY ${p} ./${p}`).join('\n')}

FROM debian:bookworm-slim
# bin/clawstorm is a bash script; targets are reached over https.
RUN apt-get update && apt-get install -y --no-install-recommends bash ca-certificates \\
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /app /app
WORKDIR /app
ENV PATH=/app/bin:$PATH HOME=/tmp
USER 65532:65532
ENTRYPOINT ["clawstorm"]
CMD ["--help"]
`;
}
