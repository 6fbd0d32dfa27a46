// oneDNN's C API (Debian's libdnnl-dev, which ships no pkg-config file) and the two OpenMP
// calls Attend needs: Debian builds oneDNN on OpenMP (libgomp), whose thread count is a setting
// of each calling thread, and Attend's pool threads must make oneDNN run single-threaded.
#include <dnnl.h>

int omp_get_max_threads(void);
void omp_set_num_threads(int count);
