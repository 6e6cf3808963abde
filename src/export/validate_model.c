/* The deployed model on the board; see validate_model.h. */
#include "export/validate_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/agreement.h"
#include "export/deploy_fw.h"

int mn_model_board_check(struct mn_board *b, const struct mn_qmodel *q,
			 struct mnp_model_info *info, char *err, size_t errn)
{
	struct mnp_model_info m;
	uint32_t fp = mnq_fingerprint(&q->net, NULL);
	const char *port = mn_board_port(b);
	int r = mn_board_model_info(b, &m, err, errn);
	if (r == MN_BOARD_EREMOTE && (mn_board_last_error(b)->code == MNP_ERR_NO_MODEL ||
				      mn_board_last_error(b)->code == MNP_ERR_UNKNOWN_CMD)) {
		/* The images deploy builds for this board and its emulated
		 * counterpart (a NUCLEO-F446RE's pair is not the F746ZG's); a
		 * board no pair names keeps its own name on its side. */
		const char *board = mn_board_info(b)->board, *emulated = board;
		if (mn_firmware_pair(mn_board_info(b)->board, &board, &emulated) != 0) {
			board = mn_board_is_emulated(b) ? "nucleo-f746zg" : mn_board_info(b)->board;
			emulated = mn_board_is_emulated(b) ? mn_board_info(b)->board
							   : "qemu-mps2-an500";
		}
		snprintf(err, errn,
			 "%s carries no deployed model (the profiler firmware): run 'micronas deploy "
			 "WEIGHTS ARCH -o DIR' and flash DIR/firmware/%s/fw.bin, or for the emulated "
			 "board 'micronas emulate --firmware DIR/firmware/%s/fw.elf'",
			 port, board, emulated);
		return MN_VALIDATE_NO_MODEL;
	}
	if (r != MN_BOARD_OK)
		return r;
	if (info)
		*info = m;
	if (m.fingerprint != fp) {
		snprintf(err, errn,
			 "%s carries another model (fingerprint %08x, C=%u N=%u %ux%ux%u %u classes) than "
			 "these weights quantize to (%08x, C=%u N=%u %ux%ux%u %u classes): flash the image "
			 "'micronas deploy' wrote for them with the same --data and --calib "
			 "(DIR/firmware/%s/fw.%s)%s; a model deployed on another computer can differ "
			 "(its BLAS rounds the calibration otherwise): add --model "
			 "DIR/model.int8.safetensors",
			 port, (unsigned)m.fingerprint, m.channels, m.cells, m.resolution, m.width,
			 m.input_channels, m.classes, (unsigned)fp, q->net.channels, q->net.cells,
			 q->net.height, q->net.width, q->net.stem->cin, q->net.classes,
			 mn_board_info(b)->board, mn_board_is_emulated(b) ? "elf" : "bin",
			 mn_board_is_emulated(b) ? ", started with 'micronas emulate --firmware ...'"
						 : "");
		return MN_VALIDATE_OTHER_MODEL;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The latency reported: the median of the n images' run times (units,
 * reordered). */
static void set_median(const struct mn_board *b, uint64_t *units, int n, struct mn_model_validation *v)
{
	if (n < 1)
		return;
	qsort(units, (size_t)n, sizeof *units, cmp_u64);
	v->measured_us = mn_board_units_to_us(b, units[(n - 1) / 2]);
}

/* The multiply-accumulates of one inference, for the request's timeout. */
static double model_work(const struct mn_qmodel *q)
{
	return (double)q->weight_bytes * (double)q->net.height * q->net.width / 4.0 +
	       1e6;
}

int mn_model_validate(struct mn_board *b, const struct mn_qmodel *q, const struct mn_fnet *f,
		      const struct mn_dataset *d, size_t first, int n,
		      struct mn_model_validation *v, char *err, size_t errn)
{
	int K = q->net.classes, rc = -1;
	size_t ib = mn_shape_input_values(&f->shape);
	memset(v, 0, sizeof *v);
	v->fingerprint = mnq_fingerprint(&q->net, NULL);
	v->host_peak_bytes = q->arena_bytes;
	rc = mn_model_board_check(b, q, NULL, err, errn);
	if (rc != 0)
		return rc;
	if (first >= d->count)
		n = 0;
	else if ((size_t)n > d->count - first)
		n = (int)(d->count - first);
	float *x = malloc(sizeof(float) * ib), *fl = malloc(sizeof(float) * (size_t)K);
	int8_t *img = malloc(ib);
	int32_t *ql = malloc(sizeof(int32_t) * (size_t)K);
	uint64_t *units = malloc(sizeof(uint64_t) * (size_t)(n > 0 ? n : 1));
	rc = -1;
	if (!x || !fl || !img || !ql || !units) {
		snprintf(err, errn, "out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++) {
		size_t idx = first + (size_t)i;
		struct mnp_run_model_req rq;
		struct mnp_run_model_reply rp;
		if (mn_agreement_image(q, f, d, idx, x, fl, img, ql) != 0)
			goto oom;
		rc = mn_board_upload_input(b, (const uint8_t *)img, (uint32_t)ib, err, errn);
		if (rc != MN_BOARD_OK)
			goto out;
		rq.fingerprint = v->fingerprint;
		rq.input_crc = mnp_crc32(0, img, ib);
		rc = mn_board_run_model(b, &rq, model_work(q), &rp, err, errn);
		if (rc != MN_BOARD_OK)
			goto out;
		if (rp.classes != K) {
			snprintf(err, errn, "%s: RUN_MODEL answered %u classes, the model has %d (flash "
				 "the image micronas deploy wrote)", mn_board_port(b), rp.classes, K);
			rc = MN_BOARD_EPROTO;
			goto out;
		}
		/* Byte for byte: every logit the reply carries, and the CRC of
		 * all of them (the reply holds at most MNP_MAX_REPLY_LOGITS). */
		uint32_t crc = 0;
		int same = 1;
		for (int k = 0; k < K; k++) {
			uint8_t le[4];
			mnp_put_u32(le, (uint32_t)ql[k]);
			crc = mnp_crc32(crc, le, 4);
			if (k < rp.n_logits && rp.logits[k] != ql[k])
				same = 0;
		}
		same &= crc == rp.logits_crc;
		int pb = rp.argmax, pf = mn_argmax_f(fl, K);
		v->exact += same;
		v->agree_float += pb == pf;
		if (!d->synthetic && d->labels) {
			v->labelled++;
			v->correct_int8 += pb == d->labels[idx];
			v->correct_float += pf == d->labels[idx];
		}
		units[i] = rp.cycles;
		v->peak_bytes = rp.peak_bytes;
		v->images++;
	}
	rc = 0;
	goto out;
oom:
	snprintf(err, errn, "out of memory");
	rc = -1;
out:
	/* An interrupt keeps the images already run: their figures are
	 * reported, as partial. */
	if (rc == 0 || rc == MN_BOARD_ECANCEL)
		set_median(b, units, v->images, v);
	free(x), free(fl), free(img), free(ql), free(units);
	return rc;
}
