# The central kyso service (DESIGN.md: service/ behind gunicorn, several workers, one PostgreSQL).
#   docker build -t kyso-service .
#   docker run -p 8000:8000 -e KYSO_DATABASE_URL=postgresql+psycopg://... \
#              -e KYSO_SERVICE_SECRET_KEY=<64 hex chars shared by every replica> -v kyso-home:/var/lib/kyso kyso-service
# Configuration: /var/lib/kyso/kyso.toml and KYSO_<SECTION>_<KEY> variables. The CA's PKI endpoints are mounted
# at /pki when the home holds a PKI and KYSO_CA_PIN is given.
FROM python:3.11-slim

# fonts-liberation2: the Times New Roman metric clone with every Vietnamese letter (signature stamps, receipts);
# softhsm2: the PKCS#11 module for a CA or seal key kept on a SoftHSM token (real HSMs: mount their module).
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-liberation2 softhsm2 \
 && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    KYSO_HOME=/var/lib/kyso

WORKDIR /opt/kyso
COPY pyproject.toml README.md ./
COPY kyso ./kyso
COPY service ./service
COPY signer ./signer
COPY verifier ./verifier
COPY policies ./policies
COPY ca ./ca
COPY ledger ./ledger
COPY token_bridge ./token_bridge
RUN pip install --upgrade pip && pip install . && python -c "import service.app, kyso.commands.serve"

RUN groupadd --system kyso && useradd --system --gid kyso --home-dir /var/lib/kyso --shell /usr/sbin/nologin kyso \
 && mkdir -p /var/lib/kyso && chown kyso:kyso /var/lib/kyso
USER kyso
VOLUME ["/var/lib/kyso"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"

# `kyso serve --production` migrates the database once, then execs gunicorn with the WSGI entry
# kyso.commands.serve:wsgi_app() (each worker opens its own PKCS#11 session after the fork).
CMD ["kyso", "serve", "--production", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]
