#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang 14 (Debian) straight
# from the sources they need (CMakeLists.txt is not involved):
#   tests/fuzz/build.sh OUT_DIR        -> OUT_DIR/{key_decoder,entry_codec,config_loader}_fuzz
set -euo pipefail
out=${1:?usage: build.sh OUT_DIR}
repo=$(cd "$(dirname "$0")/../.." && pwd)
cxx=${FUZZ_CXX:-$(command -v clang++-14 || command -v clang++)}
mkdir -p "$out"
flags=(-std=c++20 -g -O1 -fno-omit-frame-pointer "-fsanitize=fuzzer,address,undefined"
       -fno-sanitize-recover=undefined -I"$repo/src" -isystem /usr/include/hiredis)

pids=()
build() {  # name, then sources and libraries
  local name=$1; shift
  echo "fuzz: building $name"
  "$cxx" "${flags[@]}" "$@" -o "$out/$name" &
  pids+=($!)
}
wait_all() {
  local pid
  for pid in "${pids[@]}"; do wait "$pid"; done
  pids=()
}
cd "$repo"
build key_decoder_fuzz tests/fuzz/key_decoder_fuzz.cpp src/http/key_decoder.cpp src/util/utf8.cpp
build entry_codec_fuzz tests/fuzz/entry_codec_fuzz.cpp src/cache/entry_codec.cpp
wait_all
read -ra config_libs <<<"$(pkg-config --libs yaml-cpp libcurl)"
build config_loader_fuzz tests/fuzz/config_loader_fuzz.cpp src/config/config.cpp src/config/config_schema.cpp \
  src/redis/redis_url.cpp "${config_libs[@]}"
wait_all
ls "$out"/*_fuzz >/dev/null
