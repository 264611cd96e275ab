/* font.h - the 5x7 bitmap font of the figures (font.c): one glyph per printable ASCII
 * character. Text layout and drawing are plot.c's.
 */
#ifndef FONT_H
#define FONT_H

#include <stdint.h>

#define FONT_WIDTH 5
#define FONT_HEIGHT 7
#define FONT_FIRST ' '
#define FONT_LAST '~'

/* The seven rows of c's glyph (bit 4 = leftmost column); '?' for a character outside
 * ' '..'~'. */
const uint8_t *font_glyph(char c);

#endif
