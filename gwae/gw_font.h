/* gw_font.h - the 5x7 bitmap font of the figures (gw_font.c): one glyph per printable ASCII
 * character. Text layout and drawing are gw_plot.c's.
 */
#ifndef GW_FONT_H
#define GW_FONT_H

#include <stdint.h>

#define GW_FONT_WIDTH 5
#define GW_FONT_HEIGHT 7
#define GW_FONT_FIRST ' '
#define GW_FONT_LAST '~'

/* The seven rows of c's glyph (bit 4 = leftmost column); '?' for a character outside
 * ' '..'~'. */
const uint8_t *gw_font_glyph(char c);

#endif
