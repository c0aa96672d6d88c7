# The innograph API, for docker-compose.yml (Neo4j backend).
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY graph_service ./graph_service
COPY loaders ./loaders
COPY queries ./queries
COPY visualizations ./visualizations
RUN pip install --no-cache-dir . && useradd --create-home innograph
USER innograph
EXPOSE 8000
# `serve` loads the bundled Wenzhou data when the store is empty (first start), then serves.
CMD ["innograph", "serve", "--host", "0.0.0.0", "--port", "8000"]
