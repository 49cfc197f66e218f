/*
 * udp_batch: a UDP socket for the DNS listener that receives and sends in batches.
 *
 * Why: Node's dgram costs one recvmsg, one sendmsg, one JS call, one Buffer and one rinfo object
 * per datagram. A local DNS answer is a few hundred nanoseconds of JS; the per-datagram I/O path
 * was 83% of the busy time in the local-answer profile (bench/RESULTS.md). Here the socket is
 * polled on Node's own libuv loop; each readiness event drains up to BATCH datagrams with one
 * recvmmsg, hands them to JS in one call (through buffers shared with JS, so no per-datagram
 * objects), and sends every reply JS produced with one sendmmsg.
 *
 * Only Node-API (ABI-stable: one build runs on Node 18 and 20) plus libuv's poll handle, whose
 * ABI is stable across libuv 1.x.
 *
 * JS contract (see src/dns/udp/nativeEngine.ts):
 *   open(host, port, family, bufferBytes) -> handle          throws Error with .code (EADDRINUSE, ...)
 *   localPort(handle) -> number
 *   start(handle, onBatch, inData, inMeta, addrs, outData, outLengths)
 *       inData/outData: BATCH * SLOT bytes; inMeta: Int32Array(BATCH * 2) [length | -1 if cut, address length];
 *       addrs: BATCH * ADDR bytes of sockaddr; outLengths: Int32Array(BATCH), 0 = no reply.
 *       onBatch(count) is called with `count` datagrams in slots 0..count-1; it writes replies to
 *       outData slot i with their length in outLengths[i] before returning.
 *   sendTo(handle, data, sockaddrBytes) -> 0 or errno          (replies that were not ready in the batch)
 *   stats(handle) -> [batches, datagrams, sendErrors]
 *   close(handle)
 *   trimMalloc() -> boolean; skipIdleTimePoll() -> boolean    (process-wide; see each function)
 *   storeCreate() -> store        an answer store (answer_store.c), freed when JS lets go of it
 *   answerFromStore(handle, store) datagrams the store answers never reach onBatch: their inMeta
 *                                 length is -2 and their reply is already in outData
 *   storePut(store, key, reply) -> boolean; storeClear(store); storeSize(store) -> number;
 *   storeTakeCounts(store) -> [A, AAAA] replies sent from the store since the last call
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "answer_store.h"

#define BATCH 32
#define SLOT 65536
#define ADDR 32
/* Batches per readiness event before yielding to the rest of the event loop (timers, TCP, reloads). */
#define ROUNDS 8

enum { REF_ON_BATCH, REF_IN, REF_META, REF_ADDRS, REF_OUT, REF_OUT_LENGTHS, REF_RESOURCE, REF_STORE, REF_COUNT };

/* First field of what a JS external of this addon points at: a socket handle passed where a store
   is expected (or the other way round) is a TypeError, not a misread struct. */
#define SOCKET_MAGIC 0x736f636bu
#define STORE_MAGIC 0x73746f72u

typedef struct {
  uint32_t magic;
  answer_store *store;
} store_box;

typedef struct {
  uint32_t magic;
  int fd;
  int started;
  int closing;
  /* Answers from this store before JS (listeners whose fast path may answer); held by REF_STORE. */
  answer_store *store;
  uv_poll_t poll;
  napi_env env;
  napi_ref refs[REF_COUNT];
  napi_async_context async_context;
  uint8_t *in;
  int32_t *in_meta;
  uint8_t *addrs;
  uint8_t *out;
  int32_t *out_lengths;
  struct mmsghdr recv_msgs[BATCH];
  struct iovec recv_iov[BATCH];
  struct mmsghdr send_msgs[BATCH];
  struct iovec send_iov[BATCH];
  double batches, datagrams, send_errors;
  /* The struct is freed once both libuv (poll handle closed) and V8 (handle collected) let go. */
  int poll_released;
  int handle_released;
} udp_socket;

#define CHECK(env, call)                                   \
  do {                                                     \
    if ((call) != napi_ok) {                               \
      napi_throw_error((env), NULL, "udp_batch: " #call); \
      return NULL;                                         \
    }                                                      \
  } while (0)

static napi_value throw_errno(napi_env env, int err, const char *syscall) {
  napi_value message, code, error;
  char text[256];
  snprintf(text, sizeof text, "%s %s: %s", syscall, uv_err_name(-err), strerror(err));
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
  napi_create_string_utf8(env, uv_err_name(-err), NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, message, &error);
  napi_set_named_property(env, error, "code", code);
  napi_throw(env, error);
  return NULL;
}

static udp_socket *unwrap(napi_env env, napi_value value) {
  void *data = NULL;
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external) {
    napi_throw_type_error(env, NULL, "udp_batch: not a socket handle");
    return NULL;
  }
  napi_get_value_external(env, value, &data);
  udp_socket *s = data;
  if (s == NULL || s->magic != SOCKET_MAGIC) {
    napi_throw_type_error(env, NULL, "udp_batch: not a socket handle");
    return NULL;
  }
  if (s->closing) {
    napi_throw_error(env, "ERR_SOCKET_DGRAM_NOT_RUNNING", "udp_batch: socket is closed");
    return NULL;
  }
  return s;
}

static int get_args(napi_env env, napi_callback_info info, size_t expected, napi_value *argv) {
  size_t argc = expected;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < expected) {
    napi_throw_type_error(env, NULL, "udp_batch: missing arguments");
    return 0;
  }
  return 1;
}

static void on_handle_collected(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  udp_socket *s = data;
  s->handle_released = 1;
  if (s->poll_released) {
    if (s->fd >= 0) close(s->fd);
    free(s);
  }
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!get_args(env, info, 4, argv)) return NULL;
  char host[INET6_ADDRSTRLEN + 1];
  size_t host_length;
  uint32_t port, family, buffer_bytes;
  CHECK(env, napi_get_value_string_utf8(env, argv[0], host, sizeof host, &host_length));
  CHECK(env, napi_get_value_uint32(env, argv[1], &port));
  CHECK(env, napi_get_value_uint32(env, argv[2], &family));
  CHECK(env, napi_get_value_uint32(env, argv[3], &buffer_bytes));

  struct sockaddr_storage address;
  socklen_t address_length;
  memset(&address, 0, sizeof address);
  if (family == 6) {
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&address;
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1) return throw_errno(env, EINVAL, "inet_pton");
    address_length = sizeof *a6;
  } else {
    struct sockaddr_in *a4 = (struct sockaddr_in *)&address;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) return throw_errno(env, EINVAL, "inet_pton");
    address_length = sizeof *a4;
  }

  int fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket");
  int on = 1;
  if (family == 6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  int size = (int)buffer_bytes;
  /* Bigger buffers absorb bursts; the kernel caps them at rmem_max/wmem_max, which is not an error. */
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  if (bind(fd, (struct sockaddr *)&address, address_length) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "bind");
  }

  udp_socket *s = calloc(1, sizeof *s);
  if (s == NULL) {
    close(fd);
    return throw_errno(env, ENOMEM, "calloc");
  }
  s->magic = SOCKET_MAGIC;
  s->fd = fd;
  s->env = env;
  s->poll_released = 1; /* no poll handle yet */
  napi_value handle;
  CHECK(env, napi_create_external(env, s, on_handle_collected, NULL, &handle));
  return handle;
}

static napi_value js_local_port(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  udp_socket *s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  struct sockaddr_storage address;
  socklen_t length = sizeof address;
  if (getsockname(s->fd, (struct sockaddr *)&address, &length) < 0) return throw_errno(env, errno, "getsockname");
  uint16_t port = address.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&address)->sin6_port : ((struct sockaddr_in *)&address)->sin_port;
  napi_value result;
  CHECK(env, napi_create_uint32(env, ntohs(port), &result));
  return result;
}

/* Calls onBatch(count) as a fresh macrotask: a handle scope, and microtasks run afterwards. */
static int deliver(udp_socket *s, int count) {
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return 0;
  napi_value resource, callback, argument, result;
  int ok = napi_get_reference_value(env, s->refs[REF_RESOURCE], &resource) == napi_ok &&
           napi_get_reference_value(env, s->refs[REF_ON_BATCH], &callback) == napi_ok &&
           napi_create_int32(env, count, &argument) == napi_ok;
  if (ok) {
    napi_status status = napi_make_callback(env, s->async_context, resource, callback, 1, &argument, &result);
    if (status == napi_pending_exception) {
      /* The JS side catches its own errors; anything else is a bug: report it as uncaught. */
      napi_value error;
      napi_get_and_clear_last_exception(env, &error);
      napi_fatal_exception(env, error);
      ok = 0;
    } else if (status != napi_ok) {
      ok = 0;
    }
  }
  napi_close_handle_scope(env, scope);
  return ok;
}

static void send_replies(udp_socket *s, int count) {
  int pending = 0;
  for (int i = 0; i < count; i++) {
    int32_t length = s->out_lengths[i];
    if (length <= 0 || length > SLOT) continue;
    s->send_iov[pending].iov_base = s->out + (size_t)i * SLOT;
    s->send_iov[pending].iov_len = (size_t)length;
    struct msghdr *h = &s->send_msgs[pending].msg_hdr;
    memset(h, 0, sizeof *h);
    h->msg_iov = &s->send_iov[pending];
    h->msg_iovlen = 1;
    h->msg_name = s->addrs + (size_t)i * ADDR;
    h->msg_namelen = (socklen_t)s->in_meta[i * 2 + 1];
    pending++;
  }
  int done = 0;
  while (done < pending) {
    int sent = sendmmsg(s->fd, s->send_msgs + done, (unsigned)(pending - done), MSG_DONTWAIT);
    if (sent < 0) {
      if (errno == EINTR) continue;
      /* The first remaining datagram failed (buffer full, client unreachable): UDP drops it. */
      s->send_errors++;
      done++;
      continue;
    }
    done += sent;
  }
}

static void on_readable(uv_poll_t *poll, int status, int events) {
  (void)events;
  udp_socket *s = poll->data;
  if (status < 0 || s->closing) return;
  for (int round = 0; round < ROUNDS && !s->closing; round++) {
    for (int i = 0; i < BATCH; i++) {
      s->recv_iov[i].iov_base = s->in + (size_t)i * SLOT;
      s->recv_iov[i].iov_len = SLOT;
      struct msghdr *h = &s->recv_msgs[i].msg_hdr;
      memset(h, 0, sizeof *h);
      h->msg_iov = &s->recv_iov[i];
      h->msg_iovlen = 1;
      h->msg_name = s->addrs + (size_t)i * ADDR;
      h->msg_namelen = ADDR;
    }
    int count = recvmmsg(s->fd, s->recv_msgs, BATCH, MSG_DONTWAIT, NULL);
    if (count <= 0) break;
    int for_js = 0;
    for (int i = 0; i < count; i++) {
      struct msghdr *h = &s->recv_msgs[i].msg_hdr;
      int32_t length = (h->msg_flags & MSG_TRUNC) ? -1 : (int32_t)s->recv_msgs[i].msg_len;
      s->in_meta[i * 2 + 1] = (int32_t)h->msg_namelen;
      s->out_lengths[i] = 0;
      if (length > 0 && s->store != NULL) {
        size_t written = store_answer(s->store, s->in + (size_t)i * SLOT, (size_t)length, s->out + (size_t)i * SLOT);
        if (written > 0) {
          s->out_lengths[i] = (int32_t)written;
          length = -2;
        }
      }
      s->in_meta[i * 2] = length;
      if (length >= 0) for_js++;
    }
    s->batches++;
    s->datagrams += count;
    /* A batch the store answered whole never enters JS. */
    if (for_js > 0 && (!deliver(s, count) || s->closing)) break;
    send_replies(s, count);
    /* A short batch drained the queue: save the recvmmsg that would only say EAGAIN. */
    if (count < BATCH) break;
  }
}

static int buffer_of(napi_env env, napi_value value, size_t minimum, void **data) {
  size_t length = 0;
  bool is_typed;
  napi_is_typedarray(env, value, &is_typed);
  if (is_typed) {
    napi_typedarray_type type;
    size_t elements, offset;
    napi_value array_buffer;
    if (napi_get_typedarray_info(env, value, &type, &elements, data, &array_buffer, &offset) != napi_ok) return 0;
    size_t element_size = type == napi_int32_array || type == napi_uint32_array ? 4 : 1;
    length = elements * element_size;
  } else {
    return 0;
  }
  return length >= minimum;
}

static napi_value js_start(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!get_args(env, info, 7, argv)) return NULL;
  udp_socket *s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  if (s->started) {
    napi_throw_error(env, NULL, "udp_batch: already started");
    return NULL;
  }
  napi_valuetype type;
  napi_typeof(env, argv[1], &type);
  if (type != napi_function) {
    napi_throw_type_error(env, NULL, "udp_batch: onBatch must be a function");
    return NULL;
  }
  void *in, *meta, *addrs, *out, *out_lengths;
  if (!buffer_of(env, argv[2], (size_t)BATCH * SLOT, &in) || !buffer_of(env, argv[3], BATCH * 2 * 4, &meta) ||
      !buffer_of(env, argv[4], BATCH * ADDR, &addrs) || !buffer_of(env, argv[5], (size_t)BATCH * SLOT, &out) ||
      !buffer_of(env, argv[6], BATCH * 4, &out_lengths)) {
    napi_throw_range_error(env, NULL, "udp_batch: a shared buffer is missing or too small");
    return NULL;
  }
  s->in = in;
  s->in_meta = meta;
  s->addrs = addrs;
  s->out = out;
  s->out_lengths = out_lengths;
  napi_value resource, resource_name;
  CHECK(env, napi_create_object(env, &resource));
  CHECK(env, napi_create_string_utf8(env, "meshdns.udp", NAPI_AUTO_LENGTH, &resource_name));
  CHECK(env, napi_async_init(env, resource, resource_name, &s->async_context));
  CHECK(env, napi_create_reference(env, resource, 1, &s->refs[REF_RESOURCE]));
  for (int i = 1; i < 7; i++) CHECK(env, napi_create_reference(env, argv[i], 1, &s->refs[REF_ON_BATCH + i - 1]));

  uv_loop_t *loop;
  CHECK(env, napi_get_uv_event_loop(env, &loop));
  int err = uv_poll_init_socket(loop, &s->poll, s->fd);
  if (err < 0) return throw_errno(env, -err, "uv_poll_init");
  s->poll.data = s;
  s->poll_released = 0;
  /* From here on close() releases the poll handle, the references and the async context, also
     when starting the poll fails just below (the JS side closes the socket on that error). */
  s->started = 1;
  err = uv_poll_start(&s->poll, UV_READABLE, on_readable);
  if (err < 0) return throw_errno(env, -err, "uv_poll_start");
  return NULL;
}

/* A Buffer argument's bytes; 0 when it is not a Buffer. */
static int buffer_arg(napi_env env, napi_value value, void **data, size_t *length) {
  bool is_buffer = false;
  return napi_is_buffer(env, value, &is_buffer) == napi_ok && is_buffer && napi_get_buffer_info(env, value, data, length) == napi_ok;
}

static napi_value js_send_to(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv)) return NULL;
  udp_socket *s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  void *data, *address;
  size_t length, address_length;
  if (!buffer_arg(env, argv[1], &data, &length) || !buffer_arg(env, argv[2], &address, &address_length)) goto bad;
  if (address_length < sizeof(struct sockaddr_in) || address_length > ADDR) goto bad;
  ssize_t sent;
  do {
    sent = sendto(s->fd, data, length, MSG_DONTWAIT, (struct sockaddr *)address, (socklen_t)address_length);
  } while (sent < 0 && errno == EINTR);
  napi_value result;
  int err = sent < 0 ? errno : 0;
  if (err != 0) s->send_errors++;
  CHECK(env, napi_create_int32(env, err, &result));
  return result;
bad:
  napi_throw_type_error(env, NULL, "udp_batch: sendTo(handle, Buffer, sockaddr Buffer)");
  return NULL;
}

/* A JS array of `n` numbers. */
static napi_value number_array(napi_env env, const double *figures, uint32_t n) {
  napi_value result, value;
  CHECK(env, napi_create_array_with_length(env, n, &result));
  for (uint32_t i = 0; i < n; i++) {
    CHECK(env, napi_create_double(env, figures[i], &value));
    CHECK(env, napi_set_element(env, result, i, value));
  }
  return result;
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  udp_socket *s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  double figures[3] = {s->batches, s->datagrams, s->send_errors};
  return number_array(env, figures, 3);
}

static void on_store_collected(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  store_box *box = data;
  store_free(box->store);
  free(box);
}

static napi_value js_store_create(napi_env env, napi_callback_info info) {
  (void)info;
  store_box *box = calloc(1, sizeof *box);
  if (box == NULL || (box->store = store_new()) == NULL) {
    free(box);
    return throw_errno(env, ENOMEM, "calloc");
  }
  box->magic = STORE_MAGIC;
  napi_value handle;
  if (napi_create_external(env, box, on_store_collected, NULL, &handle) != napi_ok) {
    store_free(box->store);
    free(box);
    napi_throw_error(env, NULL, "udp_batch: napi_create_external");
    return NULL;
  }
  return handle;
}

/* The store behind a value made by storeCreate. */
static answer_store *store_of(napi_env env, napi_value value) {
  void *data = NULL;
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external || napi_get_value_external(env, value, &data) != napi_ok || data == NULL ||
      ((store_box *)data)->magic != STORE_MAGIC) {
    napi_throw_type_error(env, NULL, "udp_batch: not an answer store");
    return NULL;
  }
  return ((store_box *)data)->store;
}

static napi_value js_answer_from_store(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return NULL;
  udp_socket *s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  answer_store *store = store_of(env, argv[1]);
  if (store == NULL) return NULL;
  if (s->refs[REF_STORE] != NULL) napi_delete_reference(env, s->refs[REF_STORE]);
  CHECK(env, napi_create_reference(env, argv[1], 1, &s->refs[REF_STORE]));
  s->store = store;
  return NULL;
}

static napi_value js_store_put(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv)) return NULL;
  answer_store *store = store_of(env, argv[0]);
  if (store == NULL) return NULL;
  void *key, *reply;
  size_t key_length, reply_length;
  if (!buffer_arg(env, argv[1], &key, &key_length) || !buffer_arg(env, argv[2], &reply, &reply_length)) goto bad;
  napi_value result;
  CHECK(env, napi_get_boolean(env, store_put(store, key, key_length, reply, reply_length) != 0, &result));
  return result;
bad:
  napi_throw_type_error(env, NULL, "udp_batch: storePut(store, key Buffer, reply Buffer)");
  return NULL;
}

static napi_value js_store_clear(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  answer_store *store = store_of(env, argv[0]);
  if (store == NULL) return NULL;
  store_clear(store);
  return NULL;
}

static napi_value js_store_size(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  answer_store *store = store_of(env, argv[0]);
  if (store == NULL) return NULL;
  napi_value result;
  CHECK(env, napi_create_uint32(env, store_size(store), &result));
  return result;
}

static napi_value js_store_take_counts(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  answer_store *store = store_of(env, argv[0]);
  if (store == NULL) return NULL;
  double figures[2];
  store_take_counts(store, &figures[0], &figures[1]);
  return number_array(env, figures, 2);
}

static void on_closed(uv_handle_t *handle) {
  udp_socket *s = handle->data;
  close(s->fd);
  s->fd = -1;
  s->poll_released = 1;
  if (s->handle_released) free(s);
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  void *data = NULL;
  napi_get_value_external(env, argv[0], &data);
  udp_socket *s = data;
  if (s == NULL || s->magic != SOCKET_MAGIC || s->closing) return NULL;
  s->closing = 1;
  s->store = NULL;
  for (int i = 0; i < REF_COUNT; i++) {
    if (s->refs[i] != NULL) napi_delete_reference(env, s->refs[i]);
    s->refs[i] = NULL;
  }
  if (s->started) {
    napi_async_destroy(env, s->async_context);
    uv_poll_stop(&s->poll);
    /* The fd is closed and the memory freed once libuv has let go of the poll handle. */
    uv_close((uv_handle_t *)&s->poll, on_closed);
  } else {
    /* Never started: no libuv handle refers to it; the struct goes with the JS handle. */
    close(s->fd);
    s->fd = -1;
  }
  return NULL;
}

/*
 * trimMalloc(): malloc_trim(0), which gives the free pages of every C-heap arena back to the OS
 * (glibc). Here because this is meshdns's one native module: after a large start-up load, the
 * buffers Node freed (file contents, parser scratch) stay resident in malloc's arenas, ~5 MiB of
 * RSS at 100,000 ServiceEntries. Returns whether anything was released.
 */
static napi_value js_trim_malloc(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
#ifdef __GLIBC__
  int released = malloc_trim(0);
#else
  int released = 0;
#endif
  CHECK(env, napi_get_boolean(env, released != 0, &result));
  return result;
}

/*
 * Node turns on libuv's idle-time metric (UV_METRICS_IDLE_TIME, for
 * performance.eventLoopUtilization()). With it, libuv polls twice per loop iteration: first
 * without waiting (so that the wait can be timed apart from the work), then waiting. At one
 * datagram per wake-up that is one more epoll_pwait per query (bench/RESULTS.md, issue 19).
 * meshdns never reads the loop's idle time, so the flag is cleared. libuv has no call that clears
 * it: it is a bit of the first field (`unsigned int flags`) of the loop's internal fields
 * (src/uv-common.h), set by uv_loop_configure as `flags |= UV_METRICS_IDLE_TIME`; that layout is
 * the same in every libuv from 1.39 (where the metric came) to 1.51. Other versions are left
 * alone. Returns whether the flag was cleared.
 */
static napi_value js_skip_idle_time_poll(napi_env env, napi_callback_info info) {
  (void)info;
  unsigned int version = uv_version();
  unsigned int major = version >> 16, minor = (version >> 8) & 0xff;
  uv_loop_t *loop = NULL;
  bool cleared = false;
  if (major == 1 && minor >= 39 && minor <= 51 && napi_get_uv_event_loop(env, &loop) == napi_ok && loop != NULL &&
      loop->internal_fields != NULL) {
    *(unsigned int *)loop->internal_fields &= ~(unsigned int)UV_METRICS_IDLE_TIME;
    cleared = true;
  }
  napi_value result;
  CHECK(env, napi_get_boolean(env, cleared, &result));
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"localPort", NULL, js_local_port, NULL, NULL, NULL, napi_default, NULL},
      {"start", NULL, js_start, NULL, NULL, NULL, napi_default, NULL},
      {"sendTo", NULL, js_send_to, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"trimMalloc", NULL, js_trim_malloc, NULL, NULL, NULL, napi_default, NULL},
      {"skipIdleTimePoll", NULL, js_skip_idle_time_poll, NULL, NULL, NULL, napi_default, NULL},
      {"storeCreate", NULL, js_store_create, NULL, NULL, NULL, napi_default, NULL},
      {"answerFromStore", NULL, js_answer_from_store, NULL, NULL, NULL, napi_default, NULL},
      {"storePut", NULL, js_store_put, NULL, NULL, NULL, napi_default, NULL},
      {"storeClear", NULL, js_store_clear, NULL, NULL, NULL, napi_default, NULL},
      {"storeSize", NULL, js_store_size, NULL, NULL, NULL, napi_default, NULL},
      {"storeTakeCounts", NULL, js_store_take_counts, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value batch, slot, addr;
  napi_create_uint32(env, BATCH, &batch);
  napi_create_uint32(env, SLOT, &slot);
  napi_create_uint32(env, ADDR, &addr);
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  napi_set_named_property(env, exports, "BATCH", batch);
  napi_set_named_property(env, exports, "SLOT", slot);
  napi_set_named_property(env, exports, "ADDR", addr);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
