// SPDX-License-Identifier: GPL-2.0
/*
 * MHI LOOPBACK selftest, group configfs: links of mhi_vlink made at run time
 * in /sys/kernel/config/mhi_vlink, beside the one the module made at load
 * time. A link made with its own ring size and event ring must have them
 * as the host core sees them (its debugfs, not the link's), carry a checked
 * start while the first link still does, and go with "live" 0 or rmdir; a
 * configuration the link cannot run is refused with the errno the
 * attribute documents and changes nothing.
 *
 * Included by mhi_loopback_test.c (see there why), after groups/common.c.
 */

#define LT_CFS_LINK		"lt-configfs"
#define LT_CFS_MAX_LINKS	8	/* VLINK_MAX_LINKS */

FIXTURE(configfs) {
	struct lt_guard g;
};

/* Directories the test made, removed by its teardown (one test per process) */
static char lt_cfs_made[LT_CFS_MAX_LINKS][32];

/* Make link directory @link, to be removed by the fixture's teardown */
static int lt_cfs_make(const char *link)
{
	size_t i;
	int ret;

	ret = lt_cfs_mkdir(link);
	if (ret)
		return ret;
	for (i = 0; i < LT_CFS_MAX_LINKS; i++) {
		if (!lt_cfs_made[i][0]) {
			snprintf(lt_cfs_made[i], sizeof(lt_cfs_made[i]), "%s", link);
			break;
		}
	}
	return 0;
}

static int lt_cfs_unmake(const char *link)
{
	size_t i;

	for (i = 0; i < LT_CFS_MAX_LINKS; i++)
		if (!strcmp(lt_cfs_made[i], link))
			lt_cfs_made[i][0] = '\0';
	return lt_cfs_rmdir(link);
}

FIXTURE_SETUP(configfs)
{
	int ret;

	if (!lt.vlink[0])
		SKIP(return, "no mhi_vlink link under test");
	lt_test_begin(_metadata, &self->g, "configfs", NULL);
	ret = lt_cfs_mount();
	ASSERT_EQ(0, ret) TH_LOG("no configfs directory of mhi_vlink: %s", lt_errname(ret));
}

FIXTURE_TEARDOWN(configfs)
{
	char link[sizeof(lt_cfs_made[0])];
	size_t i;
	int ret;

	for (i = 0; i < LT_CFS_MAX_LINKS; i++) {
		if (!lt_cfs_made[i][0])
			continue;
		memcpy(link, lt_cfs_made[i], sizeof(link));
		ret = lt_cfs_unmake(link);
		EXPECT_EQ(0, ret) TH_LOG("cannot remove configfs link %s: %s", link,
					 lt_errname(ret));
	}
	lt_test_end(_metadata, &self->g);
}

/*
 * A second link with rings of 8 elements and its LOOPBACK completions on
 * the control event ring, while the first keeps the module's configuration:
 * the host core reports the rings the second link asked for, both carry
 * checked starts, and "live" 0 takes the second link and its controller.
 */
TEST_F_TIMEOUT(configfs, second_link_has_its_own_config, LT_FAULT_TIMEOUT)
{
	char first[LT_NAME_LEN], dev_name[64], val[32], path[PATH_MAX];
	struct lt_rings rings;
	int ret;

	snprintf(first, sizeof(first), "%s", lt.dev);
	ASSERT_EQ(0, lt_cfs_make(LT_CFS_LINK));
	ASSERT_EQ(0, lt_cfs_read(LT_CFS_LINK, "dev_name", dev_name, sizeof(dev_name)));
	EXPECT_STREQ("none", dev_name);
	ASSERT_EQ(0, lt_cfs_write(LT_CFS_LINK, "ch_elements", "8"));
	ASSERT_EQ(0, lt_cfs_write(LT_CFS_LINK, "loopback_er", "0"));
	ASSERT_EQ(0, lt_cfs_write(LT_CFS_LINK, "live", "1"));
	ASSERT_EQ(0, lt_cfs_read(LT_CFS_LINK, "dev_name", dev_name, sizeof(dev_name)));
	ksft_print_msg("configfs link %s is %s\n", LT_CFS_LINK, dev_name);
	ASSERT_TRUE(lt_cfs_faux_exists(dev_name)) TH_LOG("no faux device %s", dev_name);

	ret = lt_cfs_select(dev_name);
	ASSERT_EQ(0, ret) TH_LOG("the LOOPBACK device of %s: %s", dev_name, lt_errname(ret));
	ASSERT_STRNE(first, lt.dev);
	ASSERT_EQ(0, lt_rings_read(&rings));
	EXPECT_EQ(8ULL * LT_ELEMENT_SIZE, rings.ul.len)
		TH_LOG("UL ring of %llu bytes", rings.ul.len);
	EXPECT_EQ(8ULL * LT_ELEMENT_SIZE, rings.dl.len)
		TH_LOG("DL ring of %llu bytes", rings.dl.len);
	EXPECT_EQ(0U, rings.ul.er) TH_LOG("UL completions on event ring %u", rings.ul.er);
	/* a full ring of the largest TREs: capacity is one less than its size */
	ASSERT_EQ(0, lt_attr_set_ulong("tre_size", LT_MAX_TRE_SIZE));
	ASSERT_EQ(0, lt_attr_set_ulong("num_tre", 7));
	lt_expect_pass(_metadata, "65535 x 7 on the configfs link");
	EXPECT_EQ(-EINVAL, lt_attr_set_ulong("num_tre", 8)) TH_LOG("8 TREs fit a ring of 8");

	ASSERT_EQ(0, lt_select(first));
	lt_map_vlink();
	lt_expect_pass(_metadata, "a start on the first link beside it");

	ASSERT_EQ(0, lt_cfs_write(LT_CFS_LINK, "live", "0"));
	ASSERT_EQ(0, lt_cfs_read(LT_CFS_LINK, "live", val, sizeof(val)));
	EXPECT_STREQ("0", val);
	EXPECT_FALSE(lt_cfs_faux_exists(dev_name)) TH_LOG("%s outlived live=0", dev_name);
	ASSERT_EQ(0, lt_path(path, sizeof(path), "/sys/kernel/debug/mhi_vlink/link%s",
			     strrchr(dev_name, '.') + 1));
	EXPECT_FALSE(lt_exists(path)) TH_LOG("%s outlived live=0", path);
}

/*
 * Out-of-range and malformed values are refused with EINVAL and leave the
 * attribute as it was; a configuration whose event ring cannot hold both
 * rings' completions makes no link; a live link refuses changes (EBUSY).
 */
TEST_F(configfs, bad_config_is_refused_and_changes_nothing)
{
	static const struct {
		const char *attr, *val;
	} bad[] = {
		{ "ch_elements", "1" }, { "ch_elements", "1025" }, { "ch_elements", "x" },
		{ "er_elements", "11" }, { "timeout_ms", "0" }, { "intmod_ms", "1001" },
		{ "loopback_er", "2" }, { "async_dma", "maybe" }, { "live", "2" },
	};
	char before[32], after[32], dev_name[64];
	size_t i;

	ASSERT_EQ(0, lt_cfs_make(LT_CFS_LINK));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ASSERT_EQ(0, lt_cfs_read(LT_CFS_LINK, bad[i].attr, before, sizeof(before)));
		EXPECT_EQ(-EINVAL, lt_cfs_write(LT_CFS_LINK, bad[i].attr, bad[i].val))
			TH_LOG("%s=%s was not refused with EINVAL", bad[i].attr, bad[i].val);
		ASSERT_EQ(0, lt_cfs_read(LT_CFS_LINK, bad[i].attr, after, sizeof(after)));
		EXPECT_STREQ(before, after) TH_LOG("%s changed by a refused write", bad[i].attr);
	}

	/* in range each, but 12 events do not hold two rings of 32 */
	ASSERT_EQ(0, lt_cfs_write(LT_CFS_LINK, "ch_elements", "32"));
	ASSERT_EQ(0, lt_cfs_write(LT_CFS_LINK, "er_elements", "12"));
	EXPECT_EQ(-EINVAL, lt_cfs_write(LT_CFS_LINK, "live", "1"));
	ASSERT_EQ(0, lt_cfs_read(LT_CFS_LINK, "live", after, sizeof(after)));
	EXPECT_STREQ("0", after);
	ASSERT_EQ(0, lt_cfs_read(LT_CFS_LINK, "dev_name", dev_name, sizeof(dev_name)));
	EXPECT_STREQ("none", dev_name);

	ASSERT_EQ(0, lt_cfs_write(LT_CFS_LINK, "er_elements", "72"));
	ASSERT_EQ(0, lt_cfs_write(LT_CFS_LINK, "autostart", "0"));
	ASSERT_EQ(0, lt_cfs_write(LT_CFS_LINK, "live", "1"));
	EXPECT_EQ(-EBUSY, lt_cfs_write(LT_CFS_LINK, "ch_elements", "16"));
	ASSERT_EQ(0, lt_cfs_read(LT_CFS_LINK, "ch_elements", after, sizeof(after)));
	EXPECT_STREQ("32", after);
	/* writing the state it is in is no change */
	EXPECT_EQ(0, lt_cfs_write(LT_CFS_LINK, "live", "1"));
}

/*
 * Links up to the driver's limit, unpowered (autostart 0), then one more:
 * refused with EBUSY and not live; rmdir of a live link removes its device.
 */
TEST_F(configfs, links_past_the_limit_are_refused)
{
	char name[32], dev_name[64], val[32];
	int i, made = 0, ret = 0, before;

	before = lt_cfs_count_links();
	ASSERT_LE(1, before) TH_LOG("the link under test has no faux device");
	for (i = 0; i < LT_CFS_MAX_LINKS && !ret; i++) {
		snprintf(name, sizeof(name), "%s-%d", LT_CFS_LINK, i);
		ASSERT_EQ(0, lt_cfs_make(name));
		ASSERT_EQ(0, lt_cfs_write(name, "autostart", "0"));
		ret = lt_cfs_write(name, "live", "1");
		if (!ret)
			made++;
	}
	ksft_print_msg("%d links made before the limit\n", made);
	EXPECT_EQ(-EBUSY, ret) TH_LOG("link %d: %s", made, lt_errname(ret));
	EXPECT_EQ(LT_CFS_MAX_LINKS - before, made);
	EXPECT_EQ(LT_CFS_MAX_LINKS, lt_cfs_count_links());
	snprintf(name, sizeof(name), "%s-%d", LT_CFS_LINK, made);
	ASSERT_EQ(0, lt_cfs_read(name, "live", val, sizeof(val)));
	EXPECT_STREQ("0", val);

	snprintf(name, sizeof(name), "%s-0", LT_CFS_LINK);
	ASSERT_EQ(0, lt_cfs_read(name, "dev_name", dev_name, sizeof(dev_name)));
	ASSERT_TRUE(lt_cfs_faux_exists(dev_name));
	ASSERT_EQ(0, lt_cfs_unmake(name));
	EXPECT_FALSE(lt_cfs_faux_exists(dev_name)) TH_LOG("%s outlived its rmdir", dev_name);
}
