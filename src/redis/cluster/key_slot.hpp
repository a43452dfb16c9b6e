#pragma once
// Redis Cluster's key → slot function: CRC16 (XMODEM) of the key, or of its
// hash tag (the text between the first '{' and the first '}' after it, when
// not empty), mod 16384. Keys sharing a tag share a slot, which is what lets a
// Lua script or an ordered pipeline touch several of them.

#include <cstdint>
#include <string_view>

namespace scalecache {

inline constexpr int kClusterSlots = 16384;

uint16_t crc16_xmodem(std::string_view data);
int key_slot(std::string_view key);

}  // namespace scalecache
