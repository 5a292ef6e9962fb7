/* The mail on standard input that should hold a token. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *raw, size_t size)
{
	static const uint8_t empty[1];
	const uint8_t *data = raw ? raw : empty;
	unsigned char tok[32];
	char *s = text_of(data, size);

	sm_token_from_mail(SM_TOKEN_INVITE, s, size, tok);
	sm_token_from_mail(SM_TOKEN_RESET, s, size, tok);
	sm_token_parse(SM_TOKEN_INVITE, s, tok);
	free(s);
	return 0;
}
