# One image for every process (api, worker, migrate); docker-compose.yml picks the entry by `command`.
FROM node:20.20-bookworm-slim

WORKDIR /app

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

# WORKSPACE_ROOT's production default: pipeline workspaces (docs/workspaces.md), writable by the worker.
RUN mkdir -p /var/lib/agentic-sdlc/workspaces && chown node:node /var/lib/agentic-sdlc/workspaces

USER node
ENV NODE_ENV=production
EXPOSE 3000
CMD ["node", "--import", "tsx", "src/server.ts"]
