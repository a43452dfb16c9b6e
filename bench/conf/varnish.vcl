vcl 4.1;
# Varnish with its built-in VCL (default TTL from the origin's
# Cache-Control: max-age, 3600 s in the bench; default grace) in front of the bench origin.
backend origin {
    .host = "127.0.0.1";
    .port = "{{origin_port}}";
}
