# One image for every process (api, worker, migrate); docker-compose.yml picks the entry by `command`.
FROM node:20.20-bookworm-slim

WORKDIR /app

# git (and ssh for git@host: URLs): the workers clone each pipeline's input.repository into its
# workspace, and the scaffold and integration agents commit, merge and push with it
# (docs/workspaces.md); the slim image has none.
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates openssh-client \
  && rm -rf /var/lib/apt/lists/*

# Prisma's CLI phones home for update checks unless told not to.
ENV CHECKPOINT_DISABLE=1

COPY package.json package-lock.json ./
# tsx, prisma and @prisma/client are runtime dependencies: the entries run as TypeScript and
# the migrate service runs the Prisma CLI.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY . .

# The generated client is not in git. prisma.config.ts needs DATABASE_URL to resolve, but generate
# never connects, so a placeholder is enough; the real URL comes from the runtime environment.
ARG DATABASE_URL=postgresql://postgres@localhost:5432/agentic_sdlc
RUN DATABASE_URL="$DATABASE_URL" npx prisma generate
# The pipeline dashboard's assets (dashboard/dist), served by the API at /dashboard.
RUN node scripts/build-dashboard.mjs

# The production defaults of WORKSPACE_ROOT (pipeline workspaces, docs/workspaces.md) and
# RELEASES_ROOT (the deployment agent's releases, docs/agents.md), writable by the worker: user
# node cannot create them under /var/lib itself.
RUN mkdir -p /var/lib/agentic-sdlc/workspaces /var/lib/agentic-sdlc/releases \
  && chown node:node /var/lib/agentic-sdlc/workspaces /var/lib/agentic-sdlc/releases

USER node
ENV NODE_ENV=production
EXPOSE 3000
CMD ["node", "--import", "tsx", "src/server.ts"]
