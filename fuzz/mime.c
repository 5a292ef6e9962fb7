/* A whole message on standard input in sendmail mode (smail-send -t):
 * the header checks, the address lists and GMime's parse behind them. */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sm_compose c;
	char *from = NULL;
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	lseek(fd, 0, SEEK_SET);
	memset(&c, 0, sizeof c);
	sm_compose_from_mime(fd, &c, &from);
	free(from);
	sm_compose_free(&c);
	close(fd);
	return 0;
}
