// Thread names for Attend's pool (Swift's Glibc module does not export the GNU extension).
#define _GNU_SOURCE
#include "AttendKernels.h"

#if defined(__linux__)
#include <pthread.h>
#endif

void attend_name_current_thread(const char *name) {
#if defined(__linux__)
    char truncated[16];
    size_t i = 0;
    for (; name[i] && i < 15; i++) truncated[i] = name[i];
    truncated[i] = 0;
    pthread_setname_np(pthread_self(), truncated);
#else
    (void)name;
#endif
}
