/* nn_crc32c.h - CRC-32C (Castagnoli, the iSCSI / ext4 / Btrfs polynomial 0x1EDC6F41), the
 * checksum a checkpoint carries of its tensor data (docs/checkpoints.md says why this one).
 * Software, eight bytes per step (slicing-by-8); no hardware instruction is assumed.
 */
#ifndef NN_CRC32C_H
#define NN_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The CRC-32C of n more bytes after a running value crc (0 to start), as zlib's crc32 is
 * called: nn_crc32c(nn_crc32c(0, a, na), b, nb) is the CRC of a then b. "123456789" gives
 * 0xe3069283. */
uint32_t nn_crc32c(uint32_t crc, const void *data, size_t n);

#endif
