#include "origin/curl_memory.hpp"

#include <curl/curl.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace scalecache::curl_memory {
namespace {

// Each block starts with this header: its size, and where it came from. 16
// bytes keep the caller's block aligned as malloc's are.
struct alignas(16) Header {
  std::size_t size;
  std::size_t mapped;  // 1: its own mapping (munmap), 0: malloc
};

std::size_t mapping_size(std::size_t size) {
  constexpr std::size_t kPage = 4096;
  return (sizeof(Header) + size + kPage - 1) / kPage * kPage;
}

Header* header_of(const void* block) {
  return reinterpret_cast<Header*>(const_cast<char*>(static_cast<const char*>(block)) - sizeof(Header));
}

void* calloc_fn(std::size_t count, std::size_t size) {
  if (size != 0 && count > SIZE_MAX / size) return nullptr;
  void* block = allocate(count * size);
  // A mapping of its own is zeroed already.
  if (block != nullptr && !owns_mapping(block)) std::memset(block, 0, count * size);
  return block;
}

char* strdup_fn(const char* text) {
  const std::size_t size = std::strlen(text) + 1;
  void* block = allocate(size);
  if (block != nullptr) std::memcpy(block, text, size);
  return static_cast<char*>(block);
}

}  // namespace

void* allocate(std::size_t size) {
  if (size > SIZE_MAX - 2 * sizeof(Header)) return nullptr;
  Header* header = nullptr;
  if (size >= kOwnMappingBytes) {
    void* mapping = ::mmap(nullptr, mapping_size(size), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapping == MAP_FAILED) return nullptr;
    header = static_cast<Header*>(mapping);
    header->mapped = 1;
  } else {
    header = static_cast<Header*>(std::malloc(sizeof(Header) + size));
    if (header == nullptr) return nullptr;
    header->mapped = 0;
  }
  header->size = size;
  return header + 1;
}

void release(void* block) {
  if (block == nullptr) return;
  Header* header = header_of(block);
  if (header->mapped != 0) {
    ::munmap(header, mapping_size(header->size));
  } else {
    std::free(header);
  }
}

void* reallocate(void* block, std::size_t size) {
  if (block == nullptr) return allocate(size);
  void* moved = allocate(size);
  if (moved == nullptr) return nullptr;  // the old block stays valid, as realloc's does
  std::memcpy(moved, block, std::min(size, header_of(block)->size));
  release(block);
  return moved;
}

bool owns_mapping(const void* block) { return header_of(block)->mapped != 0; }

bool install() {
  return curl_global_init_mem(CURL_GLOBAL_DEFAULT, allocate, release, reallocate, strdup_fn, calloc_fn) == CURLE_OK;
}

}  // namespace scalecache::curl_memory
