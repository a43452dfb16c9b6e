# Test stand-in for the official nginx image: Debian 12's nginx (1.22), tagged
# with the name compose.yaml uses. Only for tests/compose/run.sh, on machines
# where no registry is reachable. Like the official image it includes
# /etc/nginx/conf.d/*.conf in http{}, logs to stdout/stderr and stops on SIGQUIT.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx \
 && rm -rf /var/lib/apt/lists/* \
 && rm -f /etc/nginx/sites-enabled/default \
 && ln -sf /dev/stdout /var/log/nginx/access.log \
 && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
LABEL io.scalecache.standin="true" \
      org.opencontainers.image.description="scalecache test stand-in for the nginx image (Debian nginx)"
