/* common/hex.h: the digit table against the digits' definition. */
#include "common/hex.h"
#include "testsuite/unit/check.h"

static int reference(int c)
{
	const char *digits = "0123456789abcdef", *upper = "0123456789ABCDEF";
	for (int i = 0; i < 16; i++)
		if (c == digits[i] || c == upper[i])
			return i;
	return -1;
}

int main(void)
{
	int wrong = 0;
	for (int c = 0; c < 256; c++)
		wrong += hex_value(c) != reference(c);
	CHECK(wrong == 0);
	CHECK(hex_value(-1) == -1 && hex_value(256) == -1 && hex_value('g') == -1);
	CHECK(hex_value('f') == 15 && hex_value('A') == 10 && hex_value('0') == 0);

	unsigned char out[3];
	CHECK(hex_decode("00fFa5", 6, out) == 3 && out[0] == 0 && out[1] == 0xff && out[2] == 0xa5);
	CHECK(hex_decode("0g", 2, out) == -1 && hex_decode("abc", 3, out) == -1);
	return check_done("test_common_hex");
}
