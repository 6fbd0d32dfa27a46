// oneDNN called directly (with its own OpenMP threads), to time raw sgemm beside Attend's matmul.
#include <dnnl.h>

int omp_get_max_threads(void);
void omp_set_num_threads(int count);
