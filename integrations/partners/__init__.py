"""Partners in the loop: referral links, the referral desk and partner meetings."""
