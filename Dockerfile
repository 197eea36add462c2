# Multi-stage build: a static binary with migrations, policies, web assets and
# the CJK font embedded, on a slim non-root runtime. PostgreSQL comes from
# DATABASE_URL (the embedded cluster is for development machines).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/healthrec ./cmd/healthrec

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /app healthrec
COPY --from=build /out/healthrec /usr/local/bin/healthrec
USER 10001
WORKDIR /app
ENV HEALTHREC_ADDR=:8080 TZ=Asia/Shanghai
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD ["/usr/local/bin/healthrec", "probe"]
ENTRYPOINT ["/usr/local/bin/healthrec"]
CMD ["serve"]
