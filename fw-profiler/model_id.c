/* The deployed model's fingerprint; see qnet.h.  Computed by the firmware
 * over the arrays it actually carries (not a number stored beside them),
 * so a board that answers with the host's fingerprint runs those weights. */
#include "qnet.h"

#include "protocol.h"

struct fp {
	uint32_t crc, bytes;
};

static void bytes_(struct fp *f, const void *p, uint32_t n)
{
	f->crc = mnp_crc32(f->crc, p, n);
	f->bytes += n;
}

static void u32_(struct fp *f, uint32_t v)
{
	uint8_t b[4];
	mnp_put_u32(b, v);
	bytes_(f, b, 4);
}

static void i32s(struct fp *f, const int32_t *v, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		u32_(f, (uint32_t)v[i]);
}

static void conv(struct fp *f, const struct mnq_conv *c)
{
	uint8_t hdr[7] = {(uint8_t)c->cin, (uint8_t)(c->cin >> 8), (uint8_t)c->cout,
			  (uint8_t)(c->cout >> 8), c->k, c->stride, c->relu_in};
	if (!c->w) {
		u32_(f, 0);
		return;
	}
	bytes_(f, hdr, sizeof hdr);
	bytes_(f, c->w, (uint32_t)c->cout * c->k * c->k * c->cin);
	if (c->b)
		i32s(f, c->b, c->cout);
	i32s(f, c->mult, c->cout);
	bytes_(f, c->shift, c->cout);
}

uint32_t mnq_fingerprint(const struct mnq_net *net, uint32_t *bytes)
{
	struct fp f = {0, 0};
	uint32_t ncell = 3u * net->cells, cf = 4u * net->channels;
	u32_(&f, net->channels);
	u32_(&f, net->cells);
	u32_(&f, net->height);
	/* the width only when it differs: a square model keeps the
	 * fingerprint it had before models could be non-square */
	if (net->width != net->height)
		u32_(&f, net->width);
	u32_(&f, net->classes);
	bytes_(&f, net->ops, 6);
	bytes_(&f, &net->n_order, 1);
	bytes_(&f, net->order, net->n_order <= 6 ? net->n_order : 6);
	conv(&f, net->stem);
	for (uint32_t i = 0; i < 6 * ncell; i++)
		conv(&f, &net->edge[i]);
	for (uint32_t i = 0; i < 6; i++)
		conv(&f, &net->red[i]);
	for (uint32_t i = 0; i < 6 * ncell; i++) {
		u32_(&f, (uint32_t)net->cell_add[i].ma);
		u32_(&f, (uint32_t)net->cell_add[i].mb);
	}
	for (uint32_t i = 0; i < 2; i++) {
		u32_(&f, (uint32_t)net->red_add[i].ma);
		u32_(&f, (uint32_t)net->red_add[i].mb);
	}
	i32s(&f, net->head_g, cf);
	i32s(&f, net->head_b, cf);
	bytes_(&f, net->fc_w, cf * net->classes);
	i32s(&f, net->fc_b, net->classes);
	if (bytes)
		*bytes = f.bytes;
	return f.crc;
}
