# syntax=docker/dockerfile:1
# One image for every Attain service; the command chooses which runs (deploy/README.md):
#   uvicorn goal_service.main:create_app --factory --host 0.0.0.0 --port 8000
#   python -m servicekit.migrations upgrade goal_service tracking_service alert_service incentive_service
#   python -m servicekit.topics
# Build from the repository root: docker build -t attain:dev .

# The build and the final stage must be the same image: the virtual environment's interpreter
# links are absolute paths into it (/usr/local/bin/python3.11).
ARG PYTHON_IMAGE=python:3.11-slim
# Within the Makefile's UV_VERSION range, so the lock reads the same as on a workstation.
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9
ARG NODE_IMAGE=node:22-slim

FROM ${UV_IMAGE} AS uv

# The dashboard's browser libraries (htmx, ECharts, ...), exactly as the lock pins them; only
# node_modules leaves this stage.
FROM ${NODE_IMAGE} AS assets
WORKDIR /assets
COPY services/dashboard-service/assets/package.json services/dashboard-service/assets/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
# The five services and what they depend on; not the devstack (embedded servers for make run
# and the tests) and not the dev group.
ARG PACKAGES="--package goal-service --package tracking-service --package alert-service --package incentive-service --package dashboard-service"
WORKDIR /src
# Third-party dependencies first, from the lock and the members' pyproject.toml alone, so that a
# change to the code reuses this layer.
COPY pyproject.toml uv.lock ./
COPY contracts/pyproject.toml contracts/
COPY libs/servicekit/pyproject.toml libs/servicekit/
COPY libs/devstack/pyproject.toml libs/devstack/
COPY services/goal-service/pyproject.toml services/goal-service/
COPY services/tracking-service/pyproject.toml services/tracking-service/
COPY services/alert-service/pyproject.toml services/alert-service/
COPY services/incentive-service/pyproject.toml services/incentive-service/
COPY services/dashboard-service/pyproject.toml services/dashboard-service/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --no-install-workspace ${PACKAGES}
# Then the workspace's own packages, installed as wheels (--no-editable): the final stage has
# the virtual environment and nothing of /src.
COPY contracts contracts
COPY libs libs
COPY services services
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable ${PACKAGES}

FROM ${PYTHON_IMAGE}
# A fixed numeric id: Kubernetes' runAsNonRoot can only verify a numeric USER.
RUN groupadd --system --gid 10001 attain \
    && useradd --system --uid 10001 --gid attain --no-create-home --home-dir /app --shell /usr/sbin/nologin attain
COPY --from=build /app/.venv /app/.venv
COPY --from=assets /assets/node_modules /app/assets/node_modules
# Bytecode was compiled at build time; the root filesystem may be read-only at run time.
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ATTAIN_DASHBOARD_VENDOR_DIR=/app/assets/node_modules
WORKDIR /app
USER 10001:10001
EXPOSE 8000
