// Open MPI (Debian's libopenmpi-dev, pkg-config ompi-c) for Swift. MPI_COMM_WORLD, MPI_FLOAT,
// MPI_SUM, MPI_IN_PLACE, … are macros over addresses of Open MPI's globals, which Swift cannot
// import, so these inline functions hand them over.
#define OMPI_SKIP_MPICXX 1
#include <mpi.h>
#include <stdlib.h>

static inline MPI_Comm attend_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype attend_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype attend_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Op attend_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op attend_mpi_max(void) { return MPI_MAX; }
static inline MPI_Op attend_mpi_min(void) { return MPI_MIN; }
static inline void *attend_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Errhandler attend_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int attend_mpi_success(void) { return MPI_SUCCESS; }
static inline int attend_mpi_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
static inline int attend_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }

/// At exit: a clean exit (status 0) finalizes MPI; any other status aborts every rank of the job
/// (MPI_Abort), so the others stop at once instead of waiting in a collective for a rank that is
/// gone. (glibc's on_exit passes the status; atexit would not.)
static void attend_mpi_exit_handler(int status, void *unused) {
    (void)unused;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;
    if (status == 0) MPI_Finalize();
    else MPI_Abort(MPI_COMM_WORLD, status);
}

static inline void attend_mpi_finalize_at_exit(void) { on_exit(attend_mpi_exit_handler, 0); }
