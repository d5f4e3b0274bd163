# tenantedge: one image serves every tenant. Build: docker build -t tenantedge .
FROM python:3.11-slim AS build
WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
# The repository's plugins too: the demo's clientsite enables contact-form.
COPY plugins ./plugins
RUN pip install --no-cache-dir --prefix=/install . ./plugins/analytics-snippet ./plugins/contact-form

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /srv/tenantedge tenantedge
COPY --from=build /install /usr/local
WORKDIR /srv/tenantedge
# The default templates and assets come with the package; templates/ holds only the demo tenants' own.
COPY templates ./templates
COPY migrations ./migrations
# The embedded origin is written by the admin API (tenants.json, its assets/, history/ and drafts/ beside it): the
# folder belongs to the service user; templates and migrations stay read-only. `tenantedge sync` (the compose seed)
# carries assets/ to S3 before the documents that refer to them.
COPY --chown=tenantedge:tenantedge tenants.json ./tenants.json
COPY --chown=tenantedge:tenantedge assets ./assets
RUN chown tenantedge:tenantedge /srv/tenantedge
USER 10001
ENV TENANTEDGE_HOST=0.0.0.0 \
    TENANTEDGE_PORT=8000 \
    TENANTEDGE_WORKERS=2 \
    TENANTEDGE_ACCESS_LOG=0 \
    PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/_edge/health', timeout=2).status != 200)"]
CMD ["tenantedge", "serve"]
